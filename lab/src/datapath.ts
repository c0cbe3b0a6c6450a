// Emulates Cilium's native-routing datapath with WireGuard but without node encryption:
//  - pod -> remote pod: into cilium_wg0 (an ip rule for traffic arriving from the pod's veth,
//    priority 500, table 200). A blackhole behind each device route stands for Cilium's eBPF
//    redirect failing when the device is gone: Cilium drops, it never falls back to the clear.
//  - everything the node itself sends follows the main table, where native routes point each
//    remote pod CIDR at its node's underlay address: without the agent this leaks.
import { ipIn } from "./exec";
import { IFACE, POD_RULE_PRIORITY, POD_TABLE, type NodePlan } from "./plan";

const DEVICE_METRIC = 100;
const FALLBACK_METRIC = 10000;

/** `ip -batch` lines that make `node` know `remotes` (idempotent: replace). */
export function peerRouteLines(remotes: NodePlan[], deviceUp: boolean): string[] {
  const lines: string[] = [];
  for (const r of remotes) {
    lines.push(`route replace ${r.podCidr} via ${r.underlayIp} dev ${IFACE.underlay}`);
    lines.push(`route replace blackhole ${r.podCidr} table ${POD_TABLE} metric ${FALLBACK_METRIC}`);
    if (deviceUp) lines.push(`route replace ${r.podCidr} dev ${IFACE.wg} table ${POD_TABLE} metric ${DEVICE_METRIC}`);
  }
  return lines;
}

/** Lines that forget a departed node; the device route goes first so nothing falls through. */
export function forgetPeerLines(gone: NodePlan[]): string[] {
  return gone.flatMap((r) => [
    `route del ${r.podCidr} via ${r.underlayIp} dev ${IFACE.underlay}`,
    `route del ${r.podCidr} dev ${IFACE.wg} table ${POD_TABLE} metric ${DEVICE_METRIC}`,
    `route del blackhole ${r.podCidr} table ${POD_TABLE} metric ${FALLBACK_METRIC}`,
  ]);
}

/** Removals may name routes already gone (allowFailure); additions must all succeed. */
function batch(ns: string, lines: string[], allowFailure: boolean): void {
  if (lines.length > 0) ipIn(ns, "-force -batch -", { input: lines.join("\n") + "\n", allowFailure });
}

/** The pod steering rule; installed once per node before any peer. */
export function installPodRule(node: NodePlan): void {
  ipIn(node.ns, `rule add priority ${POD_RULE_PRIORITY} iif ${IFACE.podVeth} lookup ${POD_TABLE}`);
}

/** (Re)installs routes for the given remote nodes; call again after cilium_wg0 is recreated. */
export function syncPeers(node: NodePlan, remotes: NodePlan[], deviceUp: boolean): void {
  batch(node.ns, peerRouteLines(remotes, deviceUp), false);
}

export function forgetPeers(node: NodePlan, gone: NodePlan[]): void {
  batch(node.ns, forgetPeerLines(gone), true);
}
