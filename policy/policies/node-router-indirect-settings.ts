// Stack policy: agent settings the pod spec takes from elsewhere
// - `envFrom` a ConfigMap/Secret, `valueFrom` a key of one, a file on a ConfigMap/Secret volume
// read by the container's script (`$(cat FILE)`, `. FILE`) - are looked up in the stack and
// judged like literal ones (lib/agent-settings.ts). What the stack does not hold is reported as
// "could not be checked", never accepted silently.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet, isAgentDaemonSetPatch } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { judgeSettings, type Judged } from "../lib/agent-check";
import { settingOfEnv } from "../lib/agent-settings";
import { argsOf, isIndirect, settingOccurrences, shadowed, type Occurrence } from "../lib/agent-sources";
import { agentFields, agentLimits, policyConfig } from "../lib/config";
import { envFile, fileSource, objectData } from "../lib/k8s-refs";
import { fromPolicyResource, label, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { at } from "../lib/values";

const NAME = "node-router-indirect-settings";
const schema = z.object(agentFields);
const config = policyConfig(schema);

const KIND = { configMap: "ConfigMap", secret: "Secret" } as const;

function workloads(resources: readonly Res[], cfg: z.infer<typeof schema>): Array<{ res: Res; spec: unknown; base: string; ns: string }> {
  const out: Array<{ res: Res; spec: unknown; base: string; ns: string }> = [];
  for (const r of resources) {
    const ns = (k: string) => (typeof at(r.props, k) === "string" ? (at(r.props, k) as string) : "default");
    if (isAgentDaemonSet(r, cfg.agent) || isAgentDaemonSetPatch(r, cfg.agent))
      out.push({ res: r, spec: at(r.props, "spec.template.spec"), base: "spec.template.spec", ns: ns("metadata.namespace") });
    else if (isAgentChart(r, cfg.agent)) {
      const spec = chartPodSpec(r.props["values"]).spec;
      if (spec !== undefined) out.push({ res: r, spec, base: "values (documented shape)", ns: ns("namespace") });
    }
  }
  return out;
}

export const nodeRouterIndirectSettings: StackValidationPolicy = {
  name: NAME,
  description: "Agent settings taken from ConfigMaps, Secrets or mounted files must not defeat the agent either; what the stack does not show is reported.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Keep the agent's settings literal in its pod spec, or in a ConfigMap this stack creates; never exempt ports beyond 6443,2379-2380 or change the device, mark/mask or control-plane selector.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const limits = agentLimits(cfg);
    const resources = args.resources.map(fromPolicyResource);
    const notes = new UnknownNotes();
    for (const w of workloads(resources, cfg)) {
      if (isUnknown(w.spec) || w.spec === undefined) continue;
      const who = label(w.res);
      const occs = settingOccurrences(w.spec, w.base);
      const resolved: Judged[] = [];
      const take = (o: Occurrence, name: string, setting: Occurrence["setting"], field: string, value: unknown) => {
        if (o.asArgs && typeof value === "string") {
          resolved.push(...argsOf(value, field, o.container).map((x) => ({ ...x, resolved: true })));
          return;
        }
        if (setting === undefined) return;
        resolved.push({ ...o, setting, name, field, value: isUnknown(value) ? value : String(value ?? ""), resolved: true });
      };
      for (const o of occs) {
        const v = o.value;
        if (!isIndirect(v) || v.from === "runtime") continue;
        if (v.from === "file") {
          const container = (v as { container: unknown }).container;
          const src = fileSource(w.spec, container, v.path);
          if (isUnknown(src)) {
            notes.add(`the volumes of ${who}`);
            continue;
          }
          if (!src) {
            notes.notVisible(`${o.field} of ${who}: ${v.path} is not on a ConfigMap or Secret volume`);
            continue;
          }
          const data = objectData(resources, src.kind, w.ns, src.name);
          const where = `${KIND[src.kind]} ${w.ns}/${src.name} key '${src.key}'`;
          if (data === undefined) {
            notes.notVisible(`${o.field} of ${who}: ${where} is not in this stack`);
            continue;
          }
          if (isUnknown(data)) {
            notes.add(`${where}`);
            continue;
          }
          const text = data[src.key];
          if (isUnknown(text)) {
            notes.add(where);
            continue;
          }
          if (v.envFile) for (const [k, val] of envFile(String(text ?? ""))) take(o, k, settingOfEnv(k), `${o.field} -> ${where} (${k})`, val);
          else take(o, o.name, o.setting, `${o.field} -> ${where}`, text);
          continue;
        }
        const kind = v.from === "configMapKey" || v.from === "configMap" ? "configMap" : "secret";
        const data = objectData(resources, kind, w.ns, v.name);
        const where = `${KIND[kind]} ${w.ns}/${v.name}`;
        if (v.from === "configMap" || v.from === "secret") {
          if (data === undefined) notes.notVisible(`the settings ${who} may take from ${where} (${o.field}), which is not in this stack`);
          else if (isUnknown(data)) notes.add(`the data of ${where}`);
          // Kubernetes: a variable the container's `env` defines wins over envFrom.
          else
            for (const [k, val] of Object.entries(data)) {
              if (!v.envNames.includes(`${v.prefix}${k}`))
                take(o, `${v.prefix}${k}`, settingOfEnv(`${v.prefix}${k}`), `${o.field} -> ${where} key '${k}'`, val);
            }
          continue;
        }
        const key = "key" in v ? v.key : "";
        if (data === undefined) notes.notVisible(`${o.field} of ${who}: ${where} key '${key}' is not in this stack`);
        else if (isUnknown(data)) notes.add(`the data of ${where}`);
        else take(o, o.name, o.setting, `${o.field} -> ${where} key '${key}'`, data[key]);
      }
      const all = shadowed([...occs.filter((o) => !isIndirect(o.value) || o.value.from === "runtime"), ...resolved]) as Judged[];
      judgeSettings(all, who, limits, (m) => reportViolation(m, w.res.urn), notes, true);
    }
    notes.finish();
  },
};
