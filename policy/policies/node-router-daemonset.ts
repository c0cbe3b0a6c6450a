// The node-router agent runs on EVERY node (control plane included), in the host network with
// NET_ADMIN, and nothing in its pod spec defeats it: exempt ports beyond the bootstrap set, a
// device other than the WireGuard device, a mark/mask that matches ordinary traffic, a
// control-plane selector every node matches (by any route: flags, env, `sh -c` scripts,
// `$(VAR)`). Judged on the agent's DaemonSet, a DaemonSetPatch of it (only what it sets), and
// the values of a node-router Helm chart in the documented shape (lib/agent-chart.ts).
// Settings taken from ConfigMaps, Secrets or mounted files are judged by
// node-router-indirect-settings, which sees the stack.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet, isAgentDaemonSetPatch, mayBeAgent } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { judgeSettings } from "../lib/agent-check";
import { checkAgentPod } from "../lib/agent-pod";
import { settingOccurrences } from "../lib/agent-sources";
import { agentFields, agentLimits, policyConfig } from "../lib/config";
import { fromResourceArgs, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { at } from "../lib/values";

const NAME = "node-router-daemonset";
const schema = z.object(agentFields);
export type NodeRouterDaemonSetConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const nodeRouterDaemonSet: ResourceValidationPolicy = {
  name: NAME,
  description: "The node-router agent must run on every node (control plane included) in the host network with NET_ADMIN, and no setting may defeat it.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "In the agent's pod spec set hostNetwork: true, add NET_ADMIN, tolerate node-role.kubernetes.io/control-plane:NoSchedule and all " +
    "NoExecute taints, select only kubernetes.io/os: linux, and leave --exempt-ports (6443,2379-2380), --device (cilium_wg0), --wg-mark/--wg-mask " +
    "(0xe00/0xf00) and --control-plane-selector (node-role.kubernetes.io/control-plane) at their defaults, in flags and NODE_ROUTER_* alike.",
  validateResource: (args, reportViolation) => {
    if (!mayBeAgent(args.type)) return;
    const cfg = config.read(args, NAME);
    const limits = agentLimits(cfg);
    const res = fromResourceArgs(args);
    const who = label(res);
    const notes = new UnknownNotes();
    let spec: unknown;
    let base = "spec.template.spec";
    let partial = false;
    if (isAgentDaemonSet(res, cfg.agent)) spec = at(res.props, "spec.template.spec");
    else if (isAgentDaemonSetPatch(res, cfg.agent)) {
      spec = at(res.props, "spec.template.spec");
      partial = true;
      if (spec === undefined) return;
    } else if (isAgentChart(res, cfg.agent)) {
      const chart = chartPodSpec(res.props["values"]);
      if (chart.spec === undefined) return; // not in the documented shape: node-router-present says so
      spec = chart.spec;
      base = "values (documented shape)";
    } else return;
    if (isUnknown(spec)) {
      notes.add(`${base} of ${who}`);
      notes.finish();
      return;
    }
    checkAgentPod(spec, base, who, limits, partial, reportViolation, notes);
    judgeSettings(settingOccurrences(spec, base), who, limits, reportViolation, notes, false);
    notes.finish();
  },
};
