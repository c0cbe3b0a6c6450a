// Shared helpers of the benchmark: namespaces (unique prefix, always cleaned up), simulated
// Kubernetes objects and small statistics.
import { execFileSync, spawnSync } from "node:child_process";

const ID = `nrb${process.pid}`;
const namespaces: string[] = [];

export function ip(ns: string, args: string, input?: string): string {
  const r = spawnSync("ip", ["-n", ns, ...args.split(" ")], { encoding: "utf8", input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ip -n ${ns} ${args}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function netns(suffix: string): string {
  const ns = `${ID}${suffix}`;
  execFileSync("ip", ["netns", "add", ns]);
  namespaces.push(ns);
  ip(ns, "link set lo up");
  return ns;
}

export function cleanupNamespaces(): void {
  for (const ns of namespaces.splice(0)) spawnSync("ip", ["netns", "del", ns]);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const hex4 = (n: number) => n.toString(16);

/** Remote node i. Addresses and pod CIDRs are spaced so that nothing aggregates (worst case). */
export function remoteNode(i: number, dual: boolean): Record<string, unknown> {
  const v4 = `198.18.${(2 * i) >> 8}.${(2 * i) & 255}`;
  const pod = `198.19.${(8 * i) >> 8}.${(8 * i) & 255}/30`;
  const addresses = [{ type: "InternalIP", address: v4 }, ...(dual ? [{ type: "InternalIP", address: `2001:db8:0:1::${hex4(2 * i + 1)}` }] : [])];
  const podCIDRs = [pod, ...(dual ? [`2001:db8:1:${hex4(2 * i)}::/64`] : [])];
  return { metadata: { name: `n${i}`, labels: i < 3 ? { "node-role.kubernetes.io/control-plane": "" } : {} }, spec: { podCIDRs }, status: { addresses } };
}

export function localNode(address4: string, dual: boolean): Record<string, unknown> {
  const addresses = [{ type: "InternalIP", address: address4 }, ...(dual ? [{ type: "InternalIP", address: "2001:db8:ff::1" }] : [])];
  return { metadata: { name: "local" }, spec: { podCIDRs: ["198.51.100.128/25"] }, status: { addresses } };
}
