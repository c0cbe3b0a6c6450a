// Issue item 1 (per resource): every Cilium configuration encrypts with WireGuard, never IPsec or nothing.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource } from "../lib/cilium";
import { fromResourceArgs, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const FIX_HELM = "set Helm values encryption.enabled: true and encryption.type: wireguard";
const FIX_CM = 'set enable-wireguard: "true" and remove enable-ipsec in the cilium-config ConfigMap';

export const ciliumWireguardEncryption: ResourceValidationPolicy = {
  name: "cilium-wireguard-encryption",
  description: "Cilium must encrypt pod traffic between nodes with WireGuard (not IPsec, not off).",
  enforcementLevel: "mandatory",
  remediationSteps: `In the Cilium Helm release/chart ${FIX_HELM}; in a rendered cilium-config ConfigMap ${FIX_CM}.`,
  validateResource: (args, reportViolation) => {
    const src = ciliumSource(fromResourceArgs(args));
    if (!src) return;
    const notes = new UnknownNotes();
    const who = label(src.res);
    const fix = src.kind === "helm" ? FIX_HELM : FIX_CM;
    const enabled = src.encryptionEnabled;
    const type = src.encryptionType;
    if (isUnknown(enabled)) notes.add(`${src.field("encryptionEnabled")} of ${who}`);
    else if (enabled !== true) {
      reportViolation(`${who}: ${src.field("encryptionEnabled")} is ${enabled ?? "unset (default off)"}, so pod traffic between nodes is unencrypted; ${fix}.`);
    }
    const mayBeOn = enabled === true || isUnknown(enabled);
    // The type only matters when encryption is (or may be) on.
    if (mayBeOn && isUnknown(type)) notes.add(`${src.field("encryptionType")} of ${who}`);
    else if (mayBeOn && !isUnknown(type) && type !== "wireguard") {
      const shown = type === undefined ? "unset (chart default ipsec)" : `'${type}'`;
      const field = src.kind === "helm" ? src.field("encryptionType") : 'data["enable-ipsec"]';
      reportViolation(`${who}: ${field} is ${shown}; this pack requires WireGuard (UDP 51871) between nodes; ${fix}.`);
    }
    notes.finish();
  },
};
