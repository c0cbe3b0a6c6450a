// A two-namespace test bench: "node" (where the agent acts) and "peer" (the underlay's other
// end, also the default gateway). The node has an underlay veth and a stand-in cilium_wg0 (a
// veth: this kernel has no dummy or wireguard module; routing only needs a device).
import { execFileSync, spawnSync } from "node:child_process";
import { ensureCgroup } from "../../bench/benchNet";

export const UNDERLAY = "underlay0";
export const DEVICE = "cilium_wg0";

/** Fails (never skips) with a clear message when the environment cannot run kernel tests. */
export function requireRootAndIp(): void {
  if (process.getuid?.() !== 0) throw new Error("kernel tests need root (network namespaces, ip rule/route): run them as root");
  const r = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("kernel tests need iproute2's `ip` on PATH: apt-get install iproute2");
  // The guard's metadata rule names system.slice by default; nft refuses a cgroup that does not exist.
  ensureCgroup("system.slice");
}

export function ip(ns: string, args: string, allowFailure = false): { code: number; out: string; err: string } {
  const r = spawnSync("ip", ["-n", ns, ...args.split(" ").filter(Boolean)], { encoding: "utf8" });
  if (r.status !== 0 && !allowFailure) throw new Error(`ip -n ${ns} ${args}: ${r.stderr.trim()}`);
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

export interface Bench {
  node: string;
  peer: string;
  addDevice(): void;
  deleteDevice(): void;
  /** Where the kernel would send this packet: a device name, or the error text. */
  routeGet(dst: string, extra?: string): { dev?: string; src?: string; error?: string };
  destroy(): void;
}

let counter = 0;

export function createBench(prefix = "nrt"): Bench {
  const id = `${prefix}${process.pid}x${counter++}`;
  const node = `${id}n`;
  const peer = `${id}p`;
  const created: string[] = [];
  const bench: Bench = {
    node,
    peer,
    addDevice() {
      ip(node, `link add ${DEVICE} type veth peer name wgsink`);
      ip(node, `link set wgsink up`);
      ip(node, `link set ${DEVICE} up`);
    },
    deleteDevice() {
      ip(node, `link del ${DEVICE}`);
    },
    routeGet(dst, extra = "") {
      const r = ip(node, `-j route get ${dst} ${extra}`, true);
      if (r.code !== 0) return { error: r.err.trim() };
      const [row] = JSON.parse(r.out) as { dev?: string; prefsrc?: string }[];
      return { dev: row.dev, src: row.prefsrc };
    },
    destroy() {
      for (const ns of created) spawnSync("ip", ["netns", "del", ns]);
    },
  };
  try {
    for (const ns of [node, peer]) {
      execFileSync("ip", ["netns", "add", ns]);
      created.push(ns);
      ip(ns, "link set lo up");
    }
    ip(node, `link add ${UNDERLAY} type veth peer name ${UNDERLAY} netns ${peer}`);
    for (const [ns, host] of [
      [node, "1"],
      [peer, "254"],
    ] as const) {
      ip(ns, `addr add 198.51.100.${host}/24 dev ${UNDERLAY}`);
      ip(ns, `-6 addr add 2001:db8:ff::${host === "1" ? "1" : "fe"}/64 dev ${UNDERLAY} nodad`);
      ip(ns, `link set ${UNDERLAY} up`);
    }
    ip(node, `route add default via 198.51.100.254 dev ${UNDERLAY}`);
    ip(node, `-6 route add default via 2001:db8:ff::fe dev ${UNDERLAY}`);
    bench.addDevice();
  } catch (e) {
    bench.destroy();
    throw e;
  }
  return bench;
}
