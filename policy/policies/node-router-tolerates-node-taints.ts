// Stack policy (the resource part is node-router-daemonset): the agent tolerates every NoSchedule/NoExecute taint a node pool
// of the stack registers (lib/node-taints.ts), custom ones included; a node it cannot schedule
// on talks to every other node in the clear.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet, isAgentDaemonSetPatch } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { tolerates, type Toleration } from "../lib/agent-pod";
import { agentMatcher, policyConfig } from "../lib/config";
import { nodeTaints } from "../lib/node-taints";
import { fromPolicyResource, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { asArray, at } from "../lib/values";

const NAME = "node-router-tolerates-node-taints";
const schema = z.object({ agent: agentMatcher });
const config = policyConfig(schema);

export const nodeRouterToleratesNodeTaints: StackValidationPolicy = {
  name: NAME,
  description: "The node-router agent must tolerate every NoSchedule/NoExecute taint the stack's node pools register.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps: "Add a toleration for each taint (or {operator: Exists}, which tolerates every taint) to the agent's pod spec.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = args.resources.map(fromPolicyResource);
    const agents = resources.flatMap((r) => {
      if (isAgentDaemonSet(r, cfg.agent)) return [{ r, tolerations: at(r.props, "spec.template.spec.tolerations"), field: "spec.template.spec.tolerations" }];
      if (isAgentDaemonSetPatch(r, cfg.agent) && at(r.props, "spec.template.spec.tolerations") !== undefined)
        return [{ r, tolerations: at(r.props, "spec.template.spec.tolerations"), field: "spec.template.spec.tolerations" }];
      if (isAgentChart(r, cfg.agent)) {
        const spec = chartPodSpec(r.props["values"]).spec;
        return spec === undefined || isUnknown(spec) ? [] : [{ r, tolerations: spec["tolerations"], field: "values.tolerations" }];
      }
      return [];
    });
    if (agents.length === 0) return;
    const notes = new UnknownNotes();
    let found: ReturnType<typeof nodeTaints> | undefined;
    for (const { r, tolerations, field } of agents) {
      const list = asArray(tolerations);
      if (isUnknown(list) || list.some(isUnknown)) {
        notes.add(`${field} of ${label(r)}`);
        continue;
      }
      // A key-less {operator: Exists} tolerates every taint, known or not.
      const ts = list as Toleration[];
      if (tolerates(ts, "\u0000any", "NoSchedule") && tolerates(ts, "\u0000any", "NoExecute")) continue;
      found ??= nodeTaints(resources);
      const { taints, unknown } = found;
      const missed = new Map<string, string[]>();
      for (const t of taints) {
        if (tolerates(ts, t.key, t.effect, t.value)) continue;
        const name = `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
        missed.set(name, [...(missed.get(name) ?? []), t.from]);
      }
      for (const [taint, from] of missed) {
        reportViolation(
          `${label(r)}: ${field} do not tolerate the taint ${taint} that ${from.slice(0, 2).join(" and ")}${from.length > 2 ? ` and ${from.length - 2} more` : ""} register(s), ` +
            `so those nodes run without the agent and their traffic to other nodes leaves in the clear; add {key: ${taint.split(/[=:]/)[0]}, operator: Exists}.`,
          r.urn,
        );
      }
      unknown.forEach((u) => notes.add(u));
    }
    notes.finish();
  },
};
