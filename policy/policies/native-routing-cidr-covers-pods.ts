// Stack policy: the native-routing CIDR covers the pod CIDR(s) the stack shows, otherwise
// Cilium masquerades pod traffic to remote pods as node traffic. See lib/pod-cidrs.ts for where
// pod CIDRs are looked for.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { cidrCovers, isCidr } from "../lib/cidr";
import { ciliumSources } from "../lib/cilium";
import { podCidrsSetting, policyConfig } from "../lib/config";
import { ipv4PodCidrs } from "../lib/pod-cidrs";
import { fromPolicyResource, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "native-routing-cidr-covers-pods";
const schema = z.object({
  podCidrs: podCidrsSetting,
});
export type NativeRoutingCidrCoversPodsConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const nativeRoutingCidrCoversPods: StackValidationPolicy = {
  name: NAME,
  description: "Cilium's IPv4 native-routing CIDR must cover every pod CIDR of the cluster.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Set ipv4NativeRoutingCIDR (cilium-config: ipv4-native-routing-cidr) to a CIDR containing the kubeadm podSubnet / Cilium cluster-pool CIDRs.",
  validateStack: async (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = await withAssets(args.resources.map(fromPolicyResource));
    const sources = ciliumSources(resources);
    if (sources.length === 0) return;
    const notes = new UnknownNotes();
    const pods = ipv4PodCidrs(cfg.podCidrs, resources);
    if (pods.cidrs.length === 0) pods.unknown.forEach((u) => notes.add(u));
    for (const src of sources) {
      const native = src.nativeRoutingCidr;
      if (isUnknown(native)) {
        notes.add(`${src.field("nativeRoutingCidr")} of ${label(src.res)}`);
        continue;
      }
      if (native === undefined || !isCidr(native)) continue; // reported by cilium-native-routing
      const missed = pods.cidrs.filter((p) => !cidrCovers(native, p));
      if (missed.length > 0) {
        reportViolation(
          `${label(src.res)}: ${src.field("nativeRoutingCidr")} '${native}' does not cover pod CIDR(s) ${missed.join(", ")}; ` +
            "pod traffic to those addresses would be masqueraded or misrouted; widen it to cover them.",
          src.res.urn,
        );
      }
    }
    notes.finish();
  },
};
