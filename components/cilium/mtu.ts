// Cilium's `MTU` value from the underlay path MTUs of the clouds in a stack.
//
// What the chart's `MTU` means (checked in Cilium's pkg/mtu and the values.yaml text
// "Configure the underlying network MTU to overwrite auto-detected MTU"): it is the BASE,
// underlay MTU. Cilium uses it as the device MTU and itself subtracts WireGuard's overhead
// (its constant WireguardOverhead) for the routes pods use towards other nodes, and cilium_wg0
// is sized the same way. So we pass the smallest underlay path MTU UNCHANGED; subtracting the
// overhead here as well would subtract it twice. Native routing means there is no VXLAN/Geneve
// overhead on top, so pods end at exactly (smallest underlay MTU - WireGuard overhead).
//
// The overhead depends on the chart line: 80 bytes (32 B WireGuard message + 40 B outer
// IPv6-sized header + 8 B UDP) up to 1.19.4; 95 from 1.19.5 (cilium/cilium#45940). One table,
// WIREGUARD_OVERHEAD_SINCE, read by every caller through wireguardOverhead(version).

/** Cilium's WireguardOverhead before any change in WIREGUARD_OVERHEAD_SINCE. */
export const WIREGUARD_OVERHEAD_BEFORE = 80;
/** Chart versions from which Cilium subtracts a different WireGuard overhead, oldest first. */
export const WIREGUARD_OVERHEAD_SINCE: readonly { readonly version: readonly [number, number, number]; readonly overhead: number; readonly source: string }[] =
  [{ version: [1, 19, 5], overhead: 95, source: "cilium/cilium#45940" }];

/** Bytes Cilium subtracts for WireGuard at an exact chart version such as "1.20.0". */
export function wireguardOverhead(chartVersion: string): number {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(chartVersion);
  if (!m) throw new Error(`wireguardOverhead: "${chartVersion}" is not an exact chart version`);
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  const atLeast = (w: readonly number[]) => (v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2]);
  return WIREGUARD_OVERHEAD_SINCE.filter((c) => atLeast(c.version)).at(-1)?.overhead ?? WIREGUARD_OVERHEAD_BEFORE;
}

/** IPv6 needs links of at least 1280 bytes, so the pod MTU must not fall below that. */
const MIN_POD_MTU = 1280;
const MAX_UNDERLAY_MTU = 9216;

export interface MtuPlan {
  /** The chart's `MTU`: smallest underlay path MTU, before WireGuard. */
  readonly ciliumMtu: number;
  /** What pods end up with on cross-node routes (ciliumMtu - WireGuard overhead), and cilium_wg0's MTU. */
  readonly podMtu: number;
  /** The WireGuard overhead of the chart version. */
  readonly overhead: number;
  /** The cloud whose path MTU is the smallest. */
  readonly limitedBy: string;
}

/** Plans the MTU from e.g. { aws: 1500, gcp: 1460 } for an exact chart version; `field` names the config key in errors. */
export function planMtu(underlayMtus: Readonly<Record<string, number>>, field: string, chartVersion: string): MtuPlan {
  const overhead = wireguardOverhead(chartVersion);
  const entries = Object.entries(underlayMtus);
  if (entries.length === 0) throw new Error(`${field}: give the underlay path MTU of at least one cloud, e.g. { aws: 1500, gcp: 1460 }`);
  for (const [cloud, mtu] of entries) {
    if (!Number.isInteger(mtu) || mtu < MIN_POD_MTU + overhead || mtu > MAX_UNDERLAY_MTU) {
      throw new Error(
        `${field}.${cloud}: ${mtu} must be an integer in ${MIN_POD_MTU + overhead}..${MAX_UNDERLAY_MTU} ` +
          `(pods get the underlay MTU minus ${overhead} bytes of WireGuard with chart ${chartVersion} and need at least ${MIN_POD_MTU})`,
      );
    }
  }
  const [limitedBy, ciliumMtu] = entries.reduce((min, entry) => (entry[1] < min[1] ? entry : min));
  return { ciliumMtu, podMtu: ciliumMtu - overhead, overhead, limitedBy };
}
