// Every Cilium configuration encrypts with WireGuard, never IPsec or nothing: Helm values (as
// the chart renders them, lib/cilium-helm.ts), cilium-config, and every override of them
// (extraConfig, extraArgs, ConfigMapPatch, CiliumNodeConfig, agent DaemonSet flags).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource, scoped, shown, mayConfigureCilium } from "../lib/cilium";
import { fromResourceArgs, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const FIX_HELM = "set Helm values encryption.enabled: true and encryption.type: wireguard (and no extraConfig/extraArgs that turn it off)";
const FIX_CM = 'set enable-wireguard: "true" and remove enable-ipsec';

export const ciliumWireguardEncryption: ResourceValidationPolicy = {
  name: "cilium-wireguard-encryption",
  description: "Cilium must encrypt pod traffic between nodes with WireGuard (not IPsec, not off), in its Helm values, cilium-config and every override.",
  enforcementLevel: "mandatory",
  remediationSteps: `In the Cilium Helm release/chart ${FIX_HELM}; in a cilium-config ConfigMap, ConfigMapPatch or CiliumNodeConfig ${FIX_CM}.`,
  validateResource: async (args, reportViolation) => {
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src) return;
    const notes = new UnknownNotes();
    const who = label(src.res);
    const fix = src.kind === "helm" ? FIX_HELM : FIX_CM;
    const enabled = src.encryptionEnabled;
    const type = src.encryptionType;
    if (isUnknown(enabled)) notes.add(`${src.field("encryptionEnabled")} of ${who}`);
    else if (enabled !== true && !(src.partial && enabled === undefined)) {
      reportViolation(
        `${who}: ${src.field("encryptionEnabled")} is ${shown(src, "encryptionEnabled", enabled, "unset (default off)")}${scoped(src)}, ` +
          `so pod traffic between nodes is unencrypted; ${fix}.`,
      );
    }
    const mayBeOn = enabled === true || isUnknown(enabled);
    // The type only matters when encryption is (or may be) on.
    if (mayBeOn && isUnknown(type)) notes.add(`${src.field("encryptionType")} of ${who}`);
    else if (mayBeOn && !isUnknown(type) && type !== "wireguard" && !(src.partial && type === undefined)) {
      const what = type === undefined ? "unset (chart default ipsec)" : `'${type}'`;
      reportViolation(`${who}: ${src.field("encryptionType")} is ${what}${scoped(src)}; this pack requires WireGuard (UDP 51871) between nodes; ${fix}.`);
    }
    notes.finish();
  },
};
