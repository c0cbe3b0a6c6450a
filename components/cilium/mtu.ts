// Cilium's `MTU` value from the underlay path MTUs of the clouds in a stack.
//
// What the chart's `MTU` means (checked in Cilium's pkg/mtu and the values.yaml text
// "Configure the underlying network MTU to overwrite auto-detected MTU"): it is the BASE,
// underlay MTU. Cilium uses it as the device MTU and itself subtracts WireGuard's overhead
// (its constant WireguardOverhead = 80: 32 B WireGuard message + 40 B outer IPv6-sized header
// + 8 B UDP) for the routes pods use towards other nodes, and cilium_wg0 is sized the same way.
// So we pass the smallest underlay path MTU UNCHANGED; subtracting 80 here as well would
// shrink pods to underlay - 160 (double subtraction). Native routing means there is no
// VXLAN/Geneve overhead on top, so pods end at exactly (smallest underlay MTU - 80).

/** Bytes Cilium subtracts for WireGuard (mirrors Cilium's WireguardOverhead). */
export const WIREGUARD_OVERHEAD = 80;

/** IPv6 needs links of at least 1280 bytes, so the pod MTU must not fall below that. */
const MIN_POD_MTU = 1280;
const MAX_UNDERLAY_MTU = 9216;

export interface MtuPlan {
  /** The chart's `MTU`: smallest underlay path MTU, before WireGuard. */
  readonly ciliumMtu: number;
  /** What pods end up with on cross-node routes (ciliumMtu - WireGuard overhead). */
  readonly podMtu: number;
  /** The cloud whose path MTU is the smallest. */
  readonly limitedBy: string;
}

/** Plans the MTU from e.g. { aws: 1500, gcp: 1460 }; `field` names the config key in errors. */
export function planMtu(underlayMtus: Readonly<Record<string, number>>, field: string): MtuPlan {
  const entries = Object.entries(underlayMtus);
  if (entries.length === 0) throw new Error(`${field}: give the underlay path MTU of at least one cloud, e.g. { aws: 1500, gcp: 1460 }`);
  for (const [cloud, mtu] of entries) {
    if (!Number.isInteger(mtu) || mtu < MIN_POD_MTU + WIREGUARD_OVERHEAD || mtu > MAX_UNDERLAY_MTU) {
      throw new Error(
        `${field}.${cloud}: ${mtu} must be an integer in ${MIN_POD_MTU + WIREGUARD_OVERHEAD}..${MAX_UNDERLAY_MTU} ` +
          `(pods get the underlay MTU minus ${WIREGUARD_OVERHEAD} bytes of WireGuard and need at least ${MIN_POD_MTU})`,
      );
    }
  }
  const [limitedBy, ciliumMtu] = entries.reduce((min, entry) => (entry[1] < min[1] ? entry : min));
  return { ciliumMtu, podMtu: ciliumMtu - WIREGUARD_OVERHEAD, limitedBy };
}
