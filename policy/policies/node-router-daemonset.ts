// Issue item 3 (per resource): the node-router DaemonSet can run on EVERY node, control plane
// included, with the privileges it needs, and exempts nothing beyond the bootstrap ports.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentDaemonSet } from "../lib/agent";
import { agentMatcher, policyConfig, portList } from "../lib/config";
import { exemptSettings } from "../lib/exempt-ports";
import { formatPorts, parsePorts, uncovered } from "../lib/ports";
import { fromResourceArgs, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { asArray, asBool, asRecord, at } from "../lib/values";

const NAME = "node-router-daemonset";
const schema = z.object({
  agent: agentMatcher,
  allowedExemptPorts: portList.default(["6443", "2379-2380"]).describe("TCP ports the agent may exempt from WireGuard (Kubernetes API, etcd)"),
  allowedNodeSelectorKeys: z.array(z.string()).default(["kubernetes.io/os"]).describe("nodeSelector/affinity keys that do not narrow the node set"),
  controlPlaneTaintKey: z.string().default("node-role.kubernetes.io/control-plane"),
});
export type NodeRouterDaemonSetConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

interface Toleration { key?: unknown; operator?: unknown; effect?: unknown; tolerationSeconds?: unknown }

function tolerates(ts: Toleration[], key: string | undefined, effect: string): boolean {
  return ts.some((t) => {
    const effectOk = t.effect === undefined || t.effect === "" || t.effect === effect;
    const noDeadline = effect !== "NoExecute" || t.tolerationSeconds === undefined;
    const keyOk = (t.key === undefined || t.key === "") ? t.operator === "Exists" : key !== undefined && t.key === key;
    return keyOk && effectOk && noDeadline;
  });
}

export const nodeRouterDaemonSet: ResourceValidationPolicy = {
  name: NAME,
  description: "The node-router DaemonSet must run on every node (control plane included) in the host network with NET_ADMIN and exempt only the bootstrap ports.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps: "In the DaemonSet's pod spec set hostNetwork: true, add NET_ADMIN to the agent container's capabilities, tolerate " +
    "node-role.kubernetes.io/control-plane:NoSchedule and all NoExecute taints ({operator: Exists, effect: NoExecute}), drop nodeSelector/required " +
    "node affinity other than kubernetes.io/os, and limit --exempt-ports / (NODE_ROUTER_)EXEMPT_PORTS to 6443,2379-2380.",
  validateResource: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const res = fromResourceArgs(args);
    if (!isAgentDaemonSet(res, cfg.agent)) return;
    const notes = new UnknownNotes();
    const who = label(res);
    const spec = at(res.props, "spec.template.spec");
    const P = "spec.template.spec";
    if (isUnknown(spec)) { notes.add(`${P} of ${who}`); notes.finish(); return; }

    const host = asBool(at(spec, "hostNetwork"));
    if (isUnknown(host)) notes.add(`${P}.hostNetwork of ${who}`);
    else if (host !== true) reportViolation(`${who}: ${P}.hostNetwork is ${host ?? "unset"}; the agent must run in the host network namespace to route node traffic; set it to true.`);

    const containers = asArray(at(spec, "containers"));
    if (isUnknown(containers)) notes.add(`${P}.containers of ${who}`);
    else {
      const caps = containers.flatMap((c) => { const a = asArray(at(c, "securityContext.capabilities.add")); return isUnknown(a) ? [a] : a; });
      const privileged = containers.some((c) => asBool(at(c, "securityContext.privileged")) === true);
      if (caps.some(isUnknown)) notes.add(`${P}.containers[].securityContext.capabilities.add of ${who}`);
      else if (!privileged && !caps.some((c) => c === "NET_ADMIN" || c === "CAP_NET_ADMIN")) {
        reportViolation(`${who}: no container in ${P}.containers adds NET_ADMIN in securityContext.capabilities.add; the agent cannot program routes without it; add NET_ADMIN.`);
      }
    }

    const tolList = asArray(at(spec, "tolerations"));
    if (isUnknown(tolList) || tolList.some(isUnknown)) notes.add(`${P}.tolerations of ${who}`);
    else {
      const ts = tolList as Toleration[];
      if (!tolerates(ts, cfg.controlPlaneTaintKey, "NoSchedule")) {
        reportViolation(`${who}: ${P}.tolerations do not tolerate ${cfg.controlPlaneTaintKey}:NoSchedule, so control-plane nodes get no agent and talk in the clear; add {key: ${cfg.controlPlaneTaintKey}, operator: Exists, effect: NoSchedule}.`);
      }
      if (!tolerates(ts, undefined, "NoExecute")) {
        reportViolation(`${who}: ${P}.tolerations do not tolerate every NoExecute taint (without tolerationSeconds), so the agent is evicted from tainted nodes; add {operator: Exists, effect: NoExecute}.`);
      }
    }

    const selector = asRecord(at(spec, "nodeSelector"));
    if (isUnknown(selector)) notes.add(`${P}.nodeSelector of ${who}`);
    else for (const key of Object.keys(selector)) {
      if (!cfg.allowedNodeSelectorKeys.includes(key)) reportViolation(`${who}: ${P}.nodeSelector '${key}' restricts the agent to a subset of nodes; remove it.`);
    }
    const terms = asArray(at(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"));
    if (isUnknown(terms)) notes.add(`${P}.affinity.nodeAffinity of ${who}`);
    else for (const term of terms) {
      const exprs = [asArray(at(term, "matchExpressions")), asArray(at(term, "matchFields"))].flatMap((l) => (isUnknown(l) ? [l] : l));
      if (exprs.some((e) => isUnknown(e) || !cfg.allowedNodeSelectorKeys.includes(String(at(e, "key"))))) {
        reportViolation(`${who}: ${P}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution narrows the agent to a subset of nodes; remove it (preferred affinity is fine).`);
        break;
      }
    }

    const allowed = parsePorts(cfg.allowedExemptPorts);
    for (const s of exemptSettings(spec)) {
      if (s.indirect) {
        reportViolation(`${who}: ${s.field} takes the exempt ports from outside the stack, so they cannot be verified; set EXEMPT_PORTS (or --exempt-ports) literally to ${formatPorts(allowed)}.`);
        continue;
      }
      if (isUnknown(s.value)) { notes.add(`${s.field} of ${who}`); continue; }
      let ranges;
      try { ranges = parsePorts(s.value); } catch (e) {
        reportViolation(`${who}: ${s.field}: ${(e as Error).message}; list ports like 6443,2379-2380.`);
        continue;
      }
      const extra = ranges.flatMap((r) => uncovered(r, allowed));
      if (extra.length > 0) {
        reportViolation(`${who}: ${s.field} exempts port(s) ${formatPorts(extra)} from WireGuard, beyond the allowed bootstrap set ${formatPorts(allowed)}; traffic to them would cross the underlay in the clear; remove them.`);
      }
    }
    notes.finish();
  },
};
