// Stack policy: a stack that provisions nodes must also configure Cilium somewhere we can see
// (Helm release, Helm v4 chart or cilium-config ConfigMap); otherwise nothing encrypts pod traffic.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { ciliumInstalls } from "../lib/cilium";
import { policyConfig } from "../lib/config";
import { nodeResources } from "../lib/nodes";
import { fromPolicyResource, label, withAssets } from "../lib/resources";

const NAME = "cilium-required-with-nodes";
const schema = z.object({
  extraNodeTypes: z.array(z.string()).default([]).describe("Additional resource types that provision nodes (e.g. a custom component's type token)"),
  ciliumInstalledElsewhere: z
    .boolean()
    .default(false)
    .describe("Set true when another stack installs Cilium on these nodes (that stack must run this pack too)"),
});
export type CiliumRequiredWithNodesConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const ciliumRequiredWithNodes: StackValidationPolicy = {
  name: NAME,
  description: "A stack that provisions Kubernetes nodes must install Cilium (Helm release/chart or cilium-config ConfigMap).",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Install Cilium in this stack with WireGuard encryption (see cilium-wireguard-encryption), or, if another stack installs it, " +
    "set ciliumInstalledElsewhere: true for this policy and run the pack on that stack too.",
  validateStack: async (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = await withAssets(args.resources.map(fromPolicyResource));
    const nodes = nodeResources(resources, cfg.extraNodeTypes);
    if (nodes.length === 0 || cfg.ciliumInstalledElsewhere) return;
    if (ciliumInstalls(resources).length > 0) return;
    const shown = nodes.slice(0, 3).map(label).join(", ") + (nodes.length > 3 ? ` and ${nodes.length - 3} more` : "");
    reportViolation(
      `This stack provisions nodes (${shown}) but configures no Cilium (no Helm release/chart of chart 'cilium', no ConfigMap 'cilium-config'), ` +
        "so traffic between their pods is unencrypted; install Cilium with encryption.type: wireguard.",
    );
  },
};
