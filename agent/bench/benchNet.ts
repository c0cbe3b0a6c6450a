// Shared helpers of the benchmark: namespaces (unique prefix, always cleaned up), simulated
// Kubernetes objects, the node table a program would publish for them, and small statistics.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writevSync } from "node:fs";
import type { NodeTable } from "../src/nodeTable";

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

/**
 * Makes sure a level-1 cgroup v2 exists (the guard's metadata rule names system.slice, and nft
 * refuses a path that does not exist). A host with systemd has it; a bare container may not.
 */
export function ensureCgroup(name: string): void {
  const mount = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[2] === "cgroup2")?.[1];
  if (!mount) throw new Error("no cgroup2 mount in /proc/self/mounts: the guard's metadata rule needs cgroup v2");
  mkdirSync(`${mount}/${name}`, { recursive: true });
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

/** This node. Its pod CIDRs lie inside the cluster's (benchTable), as they do in a real cluster. */
export function localNode(address4: string, dual: boolean): Record<string, unknown> {
  const addresses = [{ type: "InternalIP", address: address4 }, ...(dual ? [{ type: "InternalIP", address: "2001:db8:ff::1" }] : [])];
  return { metadata: { name: "local" }, spec: { podCIDRs: ["198.19.255.0/24", ...(dual ? ["2001:db8:1:ffff::/64"] : [])] }, status: { addresses } };
}

/** A table node for remote node i, as the program would list it (same addresses as remoteNode). */
export function tableEntry(i: number, dual: boolean): NodeTable["nodes"][number] {
  const obj = remoteNode(i, dual) as { metadata: { name: string; labels: Record<string, string> }; status: { addresses: { address: string }[] } };
  const role = "node-role.kubernetes.io/control-plane" in obj.metadata.labels ? ("control-plane" as const) : ("worker" as const);
  return { name: obj.metadata.name, role, addresses: obj.status.addresses.map((a) => a.address) };
}

/** The node table a program would publish for this node and remote nodes 0..n-1 (and `extra` ones). */
export function benchTable(n: number, local: string, dual = false, extra: number[] = []): NodeTable {
  const nodes = [...Array.from({ length: n }, (_, i) => i), ...extra].map((i) => tableEntry(i, dual));
  const localAddresses = [local, ...(dual ? ["2001:db8:ff::1"] : [])];
  return { podCidrs: ["198.19.0.0/16", ...(dual ? ["2001:db8:1::/48"] : [])], nodes: [{ name: "local", role: "worker", addresses: localAddresses }, ...nodes] };
}

/** Replaces the table file in one step (kubelet swaps a ConfigMap's files atomically too). */
export function writeTable(path: string, table: NodeTable): void {
  writeFileSync(`${path}.new`, JSON.stringify(table));
  renameSync(`${path}.new`, path);
}

/**
 * Writes the table file of benchTable(n, local, dual, extra) for any `extra`, byte for byte as
 * writeTable would, from the document of the n nodes rendered once: the timed re-read that
 * follows a write then pays for no garbage of the benchmark's own (rendering 5,000 entries anew
 * left ~1 MB per change, which the agent's next allocations collected), as kubelet, another
 * process, leaves none in the agent.
 */
export class TableFileWriter {
  private readonly head: Buffer;

  constructor(
    private readonly path: string,
    n: number,
    local: string,
    private readonly dual = false,
  ) {
    const whole = JSON.stringify(benchTable(n, local, dual));
    this.head = Buffer.from(whole.slice(0, -2)); // all but the closing "]}"
  }

  write(extra: number[] = []): void {
    const rest = Buffer.from(`${extra.map((i) => `,${JSON.stringify(tableEntry(i, this.dual))}`).join("")}]}`);
    const fd = openSync(`${this.path}.new`, "w");
    try {
      writevSync(fd, [this.head, rest]);
    } finally {
      closeSync(fd);
    }
    renameSync(`${this.path}.new`, this.path);
  }
}
