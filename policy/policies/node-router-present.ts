// A stack that provisions nodes must deploy the node-router agent where the pack can verify it:
// its DaemonSet (also as rendered by a helm.v4.Chart or a yaml ConfigGroup), or a node-router
// Helm chart whose values follow the documented shape (lib/agent-chart.ts). A chart the pack
// cannot look inside counts as present but "could not be checked". Cilium's own
// `encryption.nodeEncryption` is no substitute: it opts control-plane nodes out.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet } from "../lib/agent";
import { chartPodSpec } from "../lib/agent-chart";
import { ciliumSources } from "../lib/cilium";
import { agentMatcher, policyConfig } from "../lib/config";
import { nodeResources } from "../lib/nodes";
import { fromPolicyResource, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "node-router-present";
const schema = z.object({
  agent: agentMatcher,
  extraNodeTypes: z.array(z.string()).default([]).describe("Additional resource types that provision nodes"),
});
export type NodeRouterPresentConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const nodeRouterPresent: StackValidationPolicy = {
  name: NAME,
  description: "A stack that provisions nodes must deploy the node-router DaemonSet; Cilium nodeEncryption alone leaves control-plane traffic in the clear.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Deploy the node-router DaemonSet (label app.kubernetes.io/name: node-router) in this stack, or its Helm chart with values in the " +
    "documented shape (policy/README.md); keep encryption.nodeEncryption: false.",
  validateStack: async (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = await withAssets(args.resources.map(fromPolicyResource));
    if (nodeResources(resources, cfg.extraNodeTypes).length === 0) return;
    if (resources.some((r) => isAgentDaemonSet(r, cfg.agent))) return;
    const charts = resources.filter((r) => isAgentChart(r, cfg.agent));
    if (charts.length > 0) {
      const notes = new UnknownNotes();
      for (const c of charts) {
        const spec = chartPodSpec(c.props["values"]).spec;
        if (spec === undefined) {
          notes.notVisible(
            `what the node-router chart ${label(c)} deploys: the stack shows no DaemonSet it rendered and its values are not in the ` +
              "documented shape (policy/README.md, 'The agent as a Helm chart')",
          );
        } else if (isUnknown(spec)) notes.add(`the values of ${label(c)}`);
      }
      notes.finish();
      return;
    }
    reportViolation(
      `No DaemonSet labelled ${cfg.agent.label}=${cfg.agent.value} (or named '${cfg.agent.value}') is deployed although this stack provisions nodes, ` +
        "so node-to-node traffic (control plane included) is not routed through WireGuard; deploy the node-router DaemonSet.",
    );
    for (const src of ciliumSources(resources)) {
      if (src.nodeEncryption === true) {
        reportViolation(
          `${label(src.res)}: ${src.field("nodeEncryption")} is true, but Cilium node encryption skips control-plane nodes and is deprecated; ` +
            "it cannot replace the node-router agent; deploy the agent and set it to false.",
          src.res.urn,
        );
      }
    }
  },
};
