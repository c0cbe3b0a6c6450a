// WireGuard strict mode values per chart line. Strict (egress) mode makes Cilium drop pod
// traffic towards the pod CIDR that would otherwise leave the node unencrypted.
//   1.17, 1.18: encryption.strictMode.{enabled,cidr,allowRemoteNodeIdentities}
//   1.19:       encryption.strictMode.egress.* added; the flat keys are deprecated
//   1.20:       only encryption.strictMode.egress.* / .ingress.* (flat keys removed)
// Ingress strict mode is left at the chart default (off): on 1.19 it only applies to tunnel
// mode, and we route natively.
import type { ChartLine } from "./chartVersions";

export interface StrictModeSettings {
  readonly enabled: true;
  readonly cidr: string;
  /**
   * false: our pod CIDR does not overlap the node CIDRs and we do not tunnel, which is the
   * only case where Cilium needs to look up remote node identities dynamically.
   */
  readonly allowRemoteNodeIdentities: false;
}

export type StrictModeValues = StrictModeSettings | { readonly egress: StrictModeSettings };

/** Which key layout a chart line uses for strict mode. */
export function strictModeLayout(line: ChartLine): "flat" | "egress" {
  return line === "1.17" || line === "1.18" ? "flat" : "egress";
}

/** The `encryption.strictMode` block for a chart line and the IPv4 pod CIDR. */
export function strictModeValues(line: ChartLine, podCidrV4: string): StrictModeValues {
  const settings: StrictModeSettings = { enabled: true, cidr: podCidrV4, allowRemoteNodeIdentities: false };
  return strictModeLayout(line) === "flat" ? settings : { egress: settings };
}
