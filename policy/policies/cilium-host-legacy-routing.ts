// eBPF host routing must be off, because it forwards packets past the host's routing rules, and
// with them past the node-router agent's rules into cilium_wg0; read from Helm values and every
// override (extraConfig, extraArgs, ConfigMapPatch, CiliumNodeConfig for some nodes, agent flags).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource, scoped, shown, mayConfigureCilium } from "../lib/cilium";
import { fromResourceArgs, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

export const ciliumHostLegacyRouting: ResourceValidationPolicy = {
  name: "cilium-host-legacy-routing",
  description: "Cilium must use legacy host routing so node traffic passes the node-router agent's rules.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set Helm value bpf.hostLegacyRouting: true (cilium-config: enable-host-legacy-routing: "true").',
  validateResource: async (args, reportViolation) => {
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src) return;
    const notes = new UnknownNotes();
    const who = label(src.res);
    const legacy = src.hostLegacyRouting;
    if (isUnknown(legacy)) notes.add(`${src.field("hostLegacyRouting")} of ${who}`);
    else if (legacy !== true && !(src.partial && legacy === undefined)) {
      const what =
        legacy === undefined ? "unset (default: eBPF host routing on capable kernels)" : `${shown(src, "hostLegacyRouting", legacy, "")} (eBPF host routing)`;
      reportViolation(
        `${who}: ${src.field("hostLegacyRouting")} is ${what}${scoped(src)}; ` +
          "eBPF host routing bypasses the node-router agent's routing rules; set it to true.",
      );
    }
    notes.finish();
  },
};
