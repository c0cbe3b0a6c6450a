// Advisory: WireGuard strict mode drops unencrypted pod-to-pod traffic to the pod CIDR,
// so a missing peer key can never silently fall back to the clear.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { cidrCovers, isCidr } from "../lib/cidr";
import { ciliumSources, scoped, shown } from "../lib/cilium";
import { podCidrsSetting, policyConfig } from "../lib/config";
import { ipv4PodCidrs } from "../lib/pod-cidrs";
import { fromPolicyResource, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "cilium-strict-mode";
const schema = z.object({
  podCidrs: podCidrsSetting,
});
export type CiliumStrictModeConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const ciliumStrictMode: StackValidationPolicy = {
  name: NAME,
  description: "Cilium's WireGuard strict mode should be on with a CIDR covering the pod CIDR.",
  enforcementLevel: "advisory",
  configSchema: config.configSchema,
  remediationSteps:
    "Cilium 1.19+: encryption.strictMode.egress.{enabled: true, cidr: <pod CIDR>}; 1.17/1.18: encryption.strictMode.{enabled: true, cidr: <pod CIDR>}; " +
    "set allowRemoteNodeIdentities: true when node and pod CIDRs overlap.",
  validateStack: async (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const resources = await withAssets(args.resources.map(fromPolicyResource));
    const sources = ciliumSources(resources);
    if (sources.length === 0) return;
    const notes = new UnknownNotes();
    const pods = ipv4PodCidrs(cfg.podCidrs, resources);
    for (const src of sources) {
      const who = label(src.res);
      const on = src.strictModeEnabled;
      if (isUnknown(on)) {
        notes.add(`${src.field("strictModeEnabled")} of ${who}`);
        continue;
      }
      if (src.partial && on === undefined && src.strictModeCidr === undefined) continue;
      if (on !== true && !(src.partial && on === undefined)) {
        reportViolation(
          `${who}: ${src.field("strictModeEnabled")} is ${shown(src, "strictModeEnabled", on, "unset")}${scoped(src)}, not true, so unencrypted pod-to-pod packets are not dropped; enable strict mode with the pod CIDR.`,
          src.res.urn,
        );
        continue;
      }
      const cidr = src.strictModeCidr;
      if (isUnknown(cidr)) {
        notes.add(`${src.field("strictModeCidr")} of ${who}`);
        continue;
      }
      if (src.partial && cidr === undefined) continue;
      if (cidr === undefined || !isCidr(cidr)) {
        reportViolation(
          `${who}: ${src.field("strictModeCidr")} is ${cidr === undefined ? "unset" : `'${cidr}' (not a CIDR)`}; set it to the pod CIDR.`,
          src.res.urn,
        );
        continue;
      }
      if (pods.cidrs.length === 0) pods.unknown.forEach((u) => notes.add(u));
      const missed = pods.cidrs.filter((p) => !cidrCovers(cidr, p));
      if (missed.length > 0)
        reportViolation(`${who}: ${src.field("strictModeCidr")} '${cidr}' does not cover pod CIDR(s) ${missed.join(", ")}; widen it.`, src.res.urn);
    }
    notes.finish();
  },
};
