// Issue item 3 (stack): a stack that provisions nodes must deploy the node-router agent. Cilium's
// own `encryption.nodeEncryption` is no substitute: it opts control-plane nodes out.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, isAgentDaemonSet } from "../lib/agent";
import { ciliumSources } from "../lib/cilium";
import { agentMatcher, policyConfig } from "../lib/config";
import { nodeResources } from "../lib/nodes";
import { fromPolicyResource, label } from "../lib/resources";

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
  remediationSteps: "Deploy the node-router DaemonSet (label app.kubernetes.io/name: node-router) in this stack; keep encryption.nodeEncryption: false.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = args.resources.map(fromPolicyResource);
    if (nodeResources(resources, cfg.extraNodeTypes).length === 0) return;
    if (resources.some((r) => isAgentDaemonSet(r, cfg.agent) || isAgentChart(r, cfg.agent))) return;
    reportViolation(`No DaemonSet labelled ${cfg.agent.label}=${cfg.agent.value} (or named '${cfg.agent.value}') is deployed although this stack provisions nodes, ` +
      "so node-to-node traffic (control plane included) is not routed through WireGuard; deploy the node-router DaemonSet.");
    for (const src of ciliumSources(resources)) {
      if (src.nodeEncryption === true) {
        reportViolation(`${label(src.res)}: ${src.field("nodeEncryption")} is true, but Cilium node encryption skips control-plane nodes and is deprecated; ` +
          "it cannot replace the node-router agent; deploy the agent and set it to false.", src.res.urn);
      }
    }
  },
};
