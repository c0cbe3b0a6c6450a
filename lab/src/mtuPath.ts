// Two "clouds" joined through a router whose path is narrower than either side's interfaces and
// that drops what does not fit without telling anyone (no ICMP "fragmentation needed": what
// users report between AWS and GCP, cilium/cilium#47176). One node per cloud, each with a pod:
//
//   pod-a --- node-a (eth0 MTU 9001, "AWS") --- router --- node-b (eth0 MTU 1460, "GCP", control plane) --- pod-b
//
// The router forwards packets of at most `pathMtu` bytes, drops longer ones silently, and sends
// no ICMP errors at all (its legs are as wide as each side's interface: a DF packet longer than
// the 1460-byte leg is dropped by the kernel, whose "fragmentation needed" is dropped too). Each node runs wireguard-go as cilium_wg0 with the MTU under test, routes
// the other node's address and pod CIDR through it (WireGuard's own marked packets use main), and
// routes TCP to and from the control plane's API port in the clear, as the agent does; the
// guard (the agent's own `guard apply`, from a two-node table) is loaded when asked, so its MSS
// clamp on exempt TCP is what is tested. Flows are bulk TCP transfers timed to the byte.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inNs, ipIn, run, spawnInNs, stopChild, sysctl, waitFor } from "./exec";
import { cleanupLeftovers, deleteNamespaces } from "./netns";
import { IFACE, makeRunId, WG_PORT } from "./plan";
import { generateKeyPair } from "./wgconfig";
import { WireGuardDevice } from "./wireguard";
import { bootGuard } from "./agents";

export const WG_MARK = 0xe00;
/** The control plane's API port: exempt, in the clear. */
export const API_PORT = 6443;
/** Where the bulk servers listen on every host and pod (not exempt: inside WireGuard). */
export const BULK_PORT = 5000;
const STEERING_TABLE = 100;

export interface PathNode {
  name: string;
  role: "worker" | "control-plane";
  ns: string;
  podNs: string;
  ip: string;
  gateway: string;
  mtu: number;
  podCidr: string;
  podIp: string;
}

export interface MtuPathOptions {
  /** The largest packet the router forwards (bytes of IP packet). */
  pathMtu: number;
  /** cilium_wg0's MTU on both nodes (and the pods' interface MTU): what the program would configure, or a wrong one. */
  wgMtu: number;
  /** Load the node-router guard (with its MSS clamp on exempt TCP) on both nodes. */
  guard: boolean;
}

export interface Transfer {
  flow: string;
  bytes: number;
  /** Bytes the receiver counted (equal to `bytes` when the transfer completed). */
  received: number;
  ms: number;
  completed: boolean;
}

// A bulk receiver that counts what it gets and answers with the count; a sender that sends N
// bytes, half-closes, and prints "<count> <ms>" or "stalled <count-so-far-unknown> <ms>" on timeout.
const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8); print("ready", flush=True)
while True:
    c, _ = s.accept(); n = 0
    c.settimeout(30)
    try:
        while True:
            b = c.recv(65536)
            if not b: break
            n += len(b)
        c.sendall(str(n).encode())
    except OSError:
        pass
    c.close()
`;
const CLIENT = `
import socket, sys, time
host, port, size, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0 = time.monotonic(); s = socket.create_connection((host, port), timeout=timeout)
chunk = b"x" * 65536; left = size
try:
    while left > 0:
        k = s.send(chunk[:min(left, len(chunk))]); left -= k
    s.shutdown(socket.SHUT_WR)
    got = s.recv(64).decode() or "0"
    print(got, int((time.monotonic() - t0) * 1000))
except OSError:
    print("stalled", size - left, int((time.monotonic() - t0) * 1000))
`;

/** Turns segmentation and receive offloads off on a device (each feature alone: a veth lacks some). */
function noOffloads(ns: string, dev: string): void {
  for (const feature of ["tso", "gso", "gro", "tx-udp-segmentation", "tx-gso-partial"])
    inNs(ns, ["ethtool", "-K", dev, feature, "off"], { allowFailure: true });
  const off = inNs(ns, ["ethtool", "-k", dev]).stdout;
  for (const f of ["tcp-segmentation-offload", "generic-segmentation-offload"]) {
    if (!new RegExp(`^${f}: off`, "m").test(off)) throw new Error(`${ns} ${dev}: ${f} is still on`);
  }
}

let counter = 0;

export class MtuPath {
  readonly id = makeRunId(process.pid, 1000 + counter++);
  readonly dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
  readonly router = `${this.id}-r`;
  readonly a: PathNode;
  readonly b: PathNode;
  private readonly wg = new Map<string, WireGuardDevice>();
  private readonly servers: ReturnType<typeof spawnInNs>[] = [];

  constructor(readonly o: MtuPathOptions) {
    this.a = {
      name: "node-a",
      role: "worker",
      ns: `${this.id}-a`,
      podNs: `${this.id}-pa`,
      ip: "198.51.100.10",
      gateway: "198.51.100.1",
      mtu: 9001,
      podCidr: "198.18.1.0/24",
      podIp: "198.18.1.10",
    };
    this.b = {
      name: "node-b",
      role: "control-plane",
      ns: `${this.id}-b`,
      podNs: `${this.id}-pb`,
      ip: "203.0.113.10",
      gateway: "203.0.113.1",
      mtu: 1460,
      podCidr: "198.18.2.0/24",
      podIp: "198.18.2.10",
    };
  }

  get namespaces(): string[] {
    return [this.router, this.a.ns, this.a.podNs, this.b.ns, this.b.podNs];
  }

  static async create(o: MtuPathOptions): Promise<MtuPath> {
    cleanupLeftovers();
    const p = new MtuPath(o);
    try {
      await p.build();
    } catch (e) {
      await p.destroy();
      throw e;
    }
    return p;
  }

  private async build(): Promise<void> {
    const o = this.o;
    for (const ns of this.namespaces) {
      run("ip", ["netns", "add", ns]);
      ipIn(ns, "link set lo up");
      sysctl(ns, {
        "net.ipv4.ip_forward": 1,
        "net.ipv4.conf.all.rp_filter": 0,
        "net.ipv4.conf.default.rp_filter": 0,
        "net.ipv6.conf.all.disable_ipv6": 1,
        "net.ipv6.conf.default.disable_ipv6": 1,
      });
    }
    // The router: one leg per cloud, each as wide as that side's interface; the path is narrowed by a drop, not an MTU, so nothing answers.
    sysctl(this.router, { "net.ipv4.icmp_ratelimit": 0 });
    for (const [n, leg] of [
      [this.a, "ra"],
      [this.b, "rb"],
    ] as const) {
      ipIn(this.router, `link add ${leg} type veth peer name ${IFACE.underlay} netns ${n.ns}`);
      ipIn(this.router, `link set ${leg} mtu ${n.mtu}`);
      ipIn(n.ns, `link set ${IFACE.underlay} mtu ${n.mtu}`);
      ipIn(this.router, `addr add ${n.gateway}/24 dev ${leg}`);
      ipIn(this.router, `link set ${leg} up`);
      ipIn(n.ns, `addr add ${n.ip}/24 dev ${IFACE.underlay}`);
      ipIn(n.ns, `link set ${IFACE.underlay} up`);
      ipIn(n.ns, `route add default via ${n.gateway}`);
    }
    // Every packet at its size on the wire: with segmentation offloads a veth carries 64 KB
    // super-packets that are split only later, and the router's length check would judge those.
    for (const [ns, dev] of [
      [this.router, "ra"],
      [this.router, "rb"],
      [this.a.ns, IFACE.underlay],
      [this.b.ns, IFACE.underlay],
    ])
      noOffloads(ns, dev);
    inNs(this.router, ["nft", "-f", "-"], {
      input: [
        "table inet mtu_path {",
        `  chain forward { type filter hook forward priority 0; policy accept; ip length > ${o.pathMtu} counter drop; }`,
        // The router's own errors: "fragmentation needed" for a DF packet longer than the next leg (counted), and any other.
        "  chain output { type filter hook output priority 0; policy accept; icmp type destination-unreachable icmp code frag-needed counter drop; meta l4proto icmp drop; }",
        "}",
      ].join("\n"),
    });
    for (const n of [this.a, this.b]) this.buildPod(n);
    await this.startWireGuard();
    for (const [n, other] of [
      [this.a, this.b],
      [this.b, this.a],
    ] as const)
      this.route(n, other);
    if (o.guard) for (const n of [this.a, this.b]) this.loadGuard(n);
    for (const [ns, host] of [
      [this.a.ns, this.a.ip],
      [this.b.ns, this.b.ip],
      [this.a.podNs, this.a.podIp],
      [this.b.podNs, this.b.podIp],
    ])
      await this.serve(ns, host, BULK_PORT);
    await this.serve(this.b.ns, this.b.ip, API_PORT);
  }

  private buildPod(n: PathNode): void {
    const gw = n.podCidr.replace(/\.0\/24$/, ".1");
    ipIn(n.ns, `link add ${IFACE.podVeth} type veth peer name ${IFACE.podEth} netns ${n.podNs}`);
    // Cilium gives a pod's interface the route MTU of traffic to other nodes: cilium_wg0's.
    for (const [ns, dev] of [
      [n.ns, IFACE.podVeth],
      [n.podNs, IFACE.podEth],
    ])
      ipIn(ns, `link set ${dev} mtu ${this.o.wgMtu} up`);
    ipIn(n.ns, `addr add ${gw}/32 dev ${IFACE.podVeth}`);
    ipIn(n.ns, `route add ${n.podIp}/32 dev ${IFACE.podVeth}`);
    ipIn(n.podNs, `addr add ${n.podIp}/32 dev ${IFACE.podEth}`);
    ipIn(n.podNs, `route add ${gw}/32 dev ${IFACE.podEth} scope link`);
    ipIn(n.podNs, `route add default via ${gw} dev ${IFACE.podEth}`);
  }

  private async startWireGuard(): Promise<void> {
    const keys = new Map([
      [this.a.name, generateKeyPair()],
      [this.b.name, generateKeyPair()],
    ]);
    for (const [n, other] of [
      [this.a, this.b],
      [this.b, this.a],
    ] as const) {
      const dev = new WireGuardDevice(n.ns, this.dir);
      this.wg.set(n.name, dev);
      await dev.start();
      dev.configure(
        [
          "[Interface]",
          `PrivateKey = ${keys.get(n.name)!.privateKey}`,
          `ListenPort = ${WG_PORT}`,
          `FwMark = 0x${WG_MARK.toString(16)}`,
          "",
          "[Peer]",
          `PublicKey = ${keys.get(other.name)!.publicKey}`,
          `Endpoint = ${other.ip}:${WG_PORT}`,
          `AllowedIPs = ${other.ip}/32, ${other.podCidr}`,
          "",
        ].join("\n"),
      );
      ipIn(n.ns, `link set ${IFACE.wg} mtu ${this.o.wgMtu}`);
    }
  }

  /** As the agent steers: the other node and its pods through cilium_wg0; WireGuard's marked packets and the API port in the clear. */
  private route(n: PathNode, other: PathNode): void {
    ipIn(n.ns, `rule add fwmark 0x${WG_MARK.toString(16)}/0xf00 lookup main pref 100`);
    if (other.role === "control-plane") ipIn(n.ns, `rule add to ${other.ip} ipproto tcp dport ${API_PORT} lookup main pref 110`);
    if (n.role === "control-plane") ipIn(n.ns, `rule add ipproto tcp sport ${API_PORT} lookup main pref 110`);
    ipIn(n.ns, `rule add lookup ${STEERING_TABLE} pref 120`);
    ipIn(n.ns, `route add ${other.ip}/32 dev ${IFACE.wg} table ${STEERING_TABLE}`);
    ipIn(n.ns, `route add ${other.podCidr} dev ${IFACE.wg} table ${STEERING_TABLE}`);
  }

  /** The agent's own `guard apply` from a two-node table (no metadata rules: nothing here plays the metadata service). */
  private loadGuard(n: PathNode): void {
    const table = join(this.dir, "node-table.json");
    writeFileSync(
      table,
      JSON.stringify({
        podCidrs: ["198.18.0.0/16"],
        nodes: [this.a, this.b].map((x) => ({ name: x.name, role: x.role, addresses: [x.ip] })),
      }),
    );
    bootGuard(n, table, ["--metadata-cgroups", "", "--metadata-addresses", "", "--device", IFACE.wg]);
  }

  private async serve(ns: string, host: string, port: number): Promise<void> {
    const child = spawnInNs(ns, ["python3", "-c", SERVER, host, String(port)]);
    this.servers.push(child);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor(`bulk server ${host}:${port}`, () => out.includes("ready"), 10_000, 20);
  }

  /** Sends `bytes` from `fromNs` to `host:port`; a transfer that makes no progress for `timeoutS` seconds has stalled. */
  transfer(flow: string, fromNs: string, host: string, port: number, bytes: number, timeoutS = 8): Transfer {
    const r = inNs(fromNs, ["python3", "-c", CLIENT, host, String(port), String(bytes), String(timeoutS)], { allowFailure: true });
    const words = r.stdout.trim().split(/\s+/);
    if (words[0] === "stalled") return { flow, bytes, received: 0, ms: Number(words[2]), completed: false };
    if (r.code !== 0 || words.length !== 2) throw new Error(`transfer ${flow}: ${r.stdout} ${r.stderr}`);
    const received = Number(words[0]);
    return { flow, bytes, received, ms: Number(words[1]), completed: received === bytes };
  }

  /**
   * Packets the router did not forward for their size: longer than the path (the length rule), or
   * than the next leg with DF set (the kernel drops those before the forward hook; the "fragmentation
   * needed" it answers with is dropped in turn, and counted).
   */
  droppedForSize(): number {
    const out = inNs(this.router, ["nft", "list", "table", "inet", "mtu_path"]).stdout;
    const counts = [...out.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    if (counts.length !== 2) throw new Error(`router counters: ${out}`);
    return counts[0] + counts[1];
  }

  async destroy(): Promise<void> {
    for (const s of this.servers) await stopChild(s, "SIGKILL");
    for (const dev of this.wg.values()) await dev.stop();
    deleteNamespaces(this.namespaces);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
