// The egress guard in a network namespace: installed with the real CLI (`main.js guard apply`,
// as the lab runs it), loaded by the real `nft`, and tested with packets. A TCP connect that is
// refused left the node (the peer answered with a reset); one that times out was dropped on the
// way out. Probes that cannot be told apart that way carry a payload marker, counted by a sniffer
// on the peer's end of the underlay (probe.py): each such case has its control, the same probe
// seen in the clear without the guard. Drop counters are read back the way /metrics reads them.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeDesired } from "../../src/desired";
import { diff } from "../../src/diff";
import { EXEMPT_TCP_MSS, GUARD_TABLE, GUARD_UNDERLAY_TABLE, guardElements, guardElementUpdate } from "../../src/guard";
import { NftGuard } from "../../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import { uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { settings } from "../fixtures";
import { createBench, DEVICE, ip, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

const MAIN = join(__dirname, "../../../dist/agent/src/main.js");
const PROBE = join(__dirname, "probe.py");
const TABLE = {
  podCidrs: ["198.18.0.0/16"],
  nodes: [
    { name: "local", role: "worker", addresses: ["198.51.100.1"] },
    { name: "w2", role: "worker", addresses: ["198.51.100.2"] },
    { name: "cp3", role: "control-plane", addresses: ["198.51.100.3"] },
  ],
};

let bench: Bench;
let dir: string;
let guard: NftGuard;
/** The cgroup v2 mount, and two level-1 cgroups: the node's services and the pods. */
let cgroupRoot: string;
const SERVICES = `nrgsys${process.pid}`;
const PODS = `nrgpods${process.pid}`;
const ZERO = { "node-address": 0, "pod-cidr": 0, "wireguard-reply": 0, "link-local": 0, metadata: 0, "raw-frame": 0 };

function guardCli(args: string[], table: unknown = TABLE) {
  const file = join(dir, "node-table.json");
  writeFileSync(file, typeof table === "string" ? table : JSON.stringify(table));
  // As on a host: cgroup2 at /sys/fs/cgroup (`ip netns exec` remounts /sys and hides it).
  return spawnSync(
    "ip",
    [
      "netns",
      "exec",
      bench.node,
      "unshare",
      "--mount",
      "sh",
      "-c",
      'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"',
      "sh",
      process.execPath,
      MAIN,
      "guard",
      ...args,
      "--node-table",
      file,
    ],
    { encoding: "utf8", env: { ...process.env, NODE_ROUTER_METADATA_CGROUPS: SERVICES } },
  );
}

/** Runs a probe in a namespace (optionally from a cgroup); its output lines. */
function probe(ns: string, args: (string | number)[], cgroup?: string): string {
  const cmd = ["ip", "netns", "exec", ns, "python3", PROBE, ...args.map(String)];
  const r = cgroup
    ? spawnSync("sh", ["-c", `echo $$ > ${cgroupRoot}/${cgroup}/cgroup.procs && exec "$@"`, "sh", ...cmd], { encoding: "utf8" })
    : spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`probe ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Frames carrying `marker` that `iface` in `ns` received while `send` ran (the sniffer starts first, stops 300 ms after). */
function seen(ns: string, iface: string, marker: string, send: () => unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const sniffer = spawn("ip", ["netns", "exec", ns, "python3", PROBE, "sniff", iface, marker], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    sniffer.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!sent && out.startsWith("ready\n")) {
        sent = true;
        try {
          send();
        } catch (e) {
          reject(e);
        }
        setTimeout(() => sniffer.kill("SIGTERM"), 300);
      }
    });
    sniffer.on("close", (code) => (code === 0 && sent ? resolve(Number(out.split("\n")[1])) : reject(new Error(`sniffer: ${code} ${out}`))));
  });
}

/** The MSS option of the first SYN to port 6443 the peer's underlay receives while `send` runs (real tcpdump). */
function synMss(send: () => unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const dump = spawn(
      "ip",
      ["netns", "exec", bench.peer, "tcpdump", "-l", "-nn", "-c", "1", "-i", UNDERLAY, "tcp[tcpflags] & tcp-syn != 0 and tcp dst port 6443"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let sent = false;
    const timer = setTimeout(() => dump.kill("SIGTERM"), 5000);
    dump.stdout.on("data", (d: Buffer) => (out += d.toString()));
    dump.stderr.on("data", (d: Buffer) => {
      if (!sent && d.toString().includes("listening on")) {
        sent = true;
        send();
      }
    });
    dump.on("close", () => {
      clearTimeout(timer);
      const mss = /mss (\d+)/.exec(out);
      if (mss) resolve(Number(mss[1]));
      else reject(new Error(`no SYN to 6443 seen (sent: ${sent}): ${out}`));
    });
  });
}

const peerMac = () => (JSON.parse(ip(bench.peer, `-j link show ${UNDERLAY}`).out) as { address: string }[])[0].address;

/** "left" (the peer answered), "dropped" (nothing came back within a second). */
function tcp(dst: string, port: number, mark?: number): string {
  const r = spawnSync("ip", ["netns", "exec", bench.node, "timeout", "1", "bash", "-c", `exec 3<>/dev/tcp/${dst}/${port}`], { encoding: "utf8" });
  if (/refused/.test(r.stderr)) return "left";
  if (r.status === 124) return "dropped";
  return `unexpected: ${r.status} ${r.stderr.trim()}${mark ?? ""}`;
}

function ping(dst: string, extra: string[] = []): boolean {
  return spawnSync("ip", ["netns", "exec", bench.node, "ping", "-c", "1", "-W", "1", ...extra, dst]).status === 0;
}

beforeAll(() => {
  requireRootAndIp();
  if (spawnSync("nft", ["--version"]).status !== 0) throw new Error("the guard's kernel test needs nft: apt-get install nftables");
  bench = createBench("nrg");
  dir = mkdtempSync(join(tmpdir(), "nrg-"));
  guard = new NftGuard(bench.node);
  // The peer plays every other node (and a host outside the cluster, and the metadata service) on the underlay.
  for (const a of ["198.51.100.2", "198.51.100.3", "198.18.7.7", "169.254.169.254"]) ip(bench.peer, `addr add ${a}/32 dev ${UNDERLAY}`);
  cgroupRoot = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[2] === "cgroup2")![1];
  for (const c of [SERVICES, PODS]) mkdirSync(join(cgroupRoot, c), { recursive: true });
  ip(bench.peer, `addr add 192.0.2.1/32 dev ${UNDERLAY}`);
  ip(bench.node, `route add 198.18.0.0/16 via 198.51.100.254 dev ${UNDERLAY}`);
});

afterAll(() => {
  bench?.destroy();
  for (const c of [SERVICES, PODS]) if (cgroupRoot) rmdirSync(join(cgroupRoot, c));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("egress guard with the real nft", () => {
  it("before the guard, every probe is seen in the clear (the bench and the sniffer are sound)", async () => {
    expect([tcp("198.51.100.2", 5000), tcp("198.18.7.7", 5000)]).toEqual(["left", "left"]);
    expect(await seen(bench.peer, UNDERLAY, "CTLMARK", () => probe(bench.node, ["udp", "198.51.100.2", 5000, 40000, 0xe00, "CTLMARK"]))).toBe(3);
    expect(await seen(bench.peer, UNDERLAY, "CTLFRAG", () => probe(bench.node, ["raw", "frag-needed", "198.51.100.1", "198.51.100.2", "CTLFRAG"]))).toBe(3);
    expect(await seen(bench.peer, UNDERLAY, "CTL6443", () => probe(bench.node, ["raw", "tcp-6443", "198.51.100.1", "198.51.100.2", "CTL6443"]))).toBe(3);
    expect(
      await seen(bench.peer, UNDERLAY, "CTLFRAME", () =>
        probe(bench.node, ["frame", UNDERLAY, peerMac(), "198.51.100.1", "198.51.100.2", 40000, 5000, "CTLFRAME", 0]),
      ),
    ).toBe(3);
    expect(probe(bench.node, ["tcp", "169.254.169.254", 80, 0, 0, "x"], PODS)).toBe("left");
  });

  it("guard apply loads the table; node addresses and pod CIDRs are dropped on the underlay, other destinations are not", async () => {
    const r = guardCli(["apply", "--node-name", "local"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(await guard.dropped()).toEqual(ZERO);
    // The underlay was detected (the device of the default routes), the netdev chain hooks it.
    const hook = spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "chain", "netdev", GUARD_UNDERLAY_TABLE, "egress"], { encoding: "utf8" }).stdout;
    expect(hook).toContain(`type filter hook egress device "${UNDERLAY}"`);
    expect(tcp("198.51.100.2", 5000)).toBe("dropped");
    expect(tcp("198.51.100.3", 5000)).toBe("dropped");
    expect(tcp("198.51.100.2", 6443)).toBe("dropped"); // a worker's 6443 is not exempt
    expect(tcp("198.18.7.7", 5000)).toBe("dropped");
    expect(tcp("192.0.2.1", 5000)).toBe("left");
    expect(ping("192.0.2.1")).toBe(true);
    const dropped = await guard.dropped();
    // Each timed-out connect sent its SYN and at least one retransmission within the second.
    expect(dropped!["node-address"]).toBeGreaterThanOrEqual(3);
    expect(dropped!["pod-cidr"]).toBeGreaterThanOrEqual(1);
  });

  it("lets TCP to a control plane's exempt ports and the WireGuard device through; the mark only on UDP from and to the WireGuard port", async () => {
    expect(tcp("198.51.100.3", 6443)).toBe("left");
    expect(tcp("198.51.100.3", 2380)).toBe("left");
    const before = (await guard.dropped())!["node-address"];
    ip(bench.node, `route add 198.51.100.2/32 dev ${DEVICE}`);
    ping("198.51.100.2"); // into the stand-in device: no answer, but not dropped by the guard
    ip(bench.node, `route del 198.51.100.2/32 dev ${DEVICE}`);
    expect((await guard.dropped())!["node-address"]).toBe(before);
    // A process with CAP_NET_RAW sets WireGuard's mark (SO_MARK): only WireGuard-shaped UDP passes.
    expect(probe(bench.node, ["tcp", "198.51.100.2", 5000, 0, 0xe00, "x"])).toBe("dropped");
    expect(probe(bench.node, ["tcp", "198.51.100.2", 5000, 0, 0x1e00, "x"])).toBe("dropped");
    expect(ping("198.51.100.2", ["-m", String(0xe00)])).toBe(false);
    expect(await seen(bench.peer, UNDERLAY, "MARKUDP", () => probe(bench.node, ["udp", "198.51.100.2", 5000, 51871, 0xe00, "MARKUDP"]))).toBe(0);
    expect(await seen(bench.peer, UNDERLAY, "MARKPOD", () => probe(bench.node, ["udp", "198.18.7.7", 51871, 51871, 0xe00, "MARKPOD"]))).toBe(0);
    expect(await seen(bench.peer, UNDERLAY, "NOMARKWG", () => probe(bench.node, ["udp", "198.51.100.2", 51871, 51871, 0, "NOMARKWG"]))).toBe(0);
    expect(await seen(bench.peer, UNDERLAY, "WGSHAPED", () => probe(bench.node, ["udp", "198.51.100.2", 51871, 51871, 0xe00, "WGSHAPED"]))).toBe(3);
  });

  it("exempt TCP opens with the MSS every path carries (1240), not the interface's: the SYN as the peer receives it", async () => {
    expect(await synMss(() => tcp("198.51.100.3", 6443))).toBe(EXEMPT_TCP_MSS[4]);
    // Control: without the guard the SYN carries the interface's MSS (veth MTU 1500 - 40).
    expect(await guard.remove()).toBe(true);
    try {
      expect(await synMss(() => tcp("198.51.100.3", 6443))).toBe(1460);
    } finally {
      expect(guardCli(["apply", "--node-name", "local"]).status).toBe(0);
    }
  });

  it("drops ICMP errors no connection relates to, raw segments from an exempt port and AF_PACKET frames (netdev chain)", async () => {
    const before = (await guard.dropped())!;
    expect(await seen(bench.peer, UNDERLAY, "FRAGDATA", () => probe(bench.node, ["raw", "frag-needed", "198.51.100.1", "198.51.100.2", "FRAGDATA"]))).toBe(0);
    expect(await seen(bench.peer, UNDERLAY, "RAW6443", () => probe(bench.node, ["raw", "tcp-6443", "198.51.100.1", "198.51.100.2", "RAW6443"]))).toBe(0);
    expect((await guard.dropped())!["node-address"]).toBeGreaterThanOrEqual(before["node-address"] + 6);
    for (const bypass of [0, 1]) {
      expect(
        await seen(bench.peer, UNDERLAY, `FRAME${bypass}`, () =>
          probe(bench.node, ["frame", UNDERLAY, peerMac(), "198.51.100.1", "198.51.100.2", 40000, 5000, `FRAME${bypass}`, bypass]),
        ),
      ).toBe(0);
      expect(
        await seen(bench.peer, UNDERLAY, `PODFRAME${bypass}`, () =>
          probe(bench.node, ["frame", UNDERLAY, peerMac(), "198.51.100.1", "198.18.7.7", 40000, 5000, `PODFRAME${bypass}`, bypass]),
        ),
      ).toBe(0);
    }
    expect((await guard.dropped())!["raw-frame"]).toBe(before["raw-frame"] + 12);
    // WireGuard-shaped frames and frames to other destinations pass the netdev chain.
    expect(
      await seen(bench.peer, UNDERLAY, "WGFRAME", () =>
        probe(bench.node, ["frame", UNDERLAY, peerMac(), "198.51.100.1", "198.51.100.2", 51871, 51871, "WGFRAME", 0]),
      ),
    ).toBe(3);
    expect(
      await seen(bench.peer, UNDERLAY, "OUTFRAME", () =>
        probe(bench.node, ["frame", UNDERLAY, peerMac(), "198.51.100.1", "192.0.2.1", 40000, 5000, "OUTFRAME", 0]),
      ),
    ).toBe(3);
  });

  it("metadata: TCP only from the node's services' cgroup; pods' TCP dropped, their DNS (TCP 53) open", async () => {
    const before = (await guard.dropped())!.metadata;
    expect(probe(bench.node, ["tcp", "169.254.169.254", 80, 0, 0, "x"], SERVICES)).toBe("left");
    expect(probe(bench.node, ["tcp", "169.254.169.254", 80, 0, 0, "x"], PODS)).toBe("dropped");
    expect(probe(bench.node, ["tcp", "169.254.169.254", 53, 0, 0, "x"], PODS)).toBe("left");
    expect((await guard.dropped())!.metadata).toBeGreaterThan(before);
  });

  it("link-local: another node's fe80:: address gets ND only, not data", async () => {
    const peerLinkLocal = "fe80::fe";
    ip(bench.peer, `-6 addr add ${peerLinkLocal}/64 dev ${UNDERLAY} nodad`);
    const before = (await guard.dropped())!["link-local"];
    expect(probe(bench.node, ["tcp", `${peerLinkLocal}%${UNDERLAY}`, 5000, 0, 0, "x"])).toBe("dropped");
    expect((await guard.dropped())!["link-local"]).toBeGreaterThan(before);
    expect(ping("2001:db8:ff::fe")).toBe(true); // neighbour discovery still works
  });

  it("on a control plane: the reply of a connection a peer opened to 6443 leaves through the routing rule and the guard; a forged reply mark is wiped", async () => {
    const cpTable = { ...TABLE, nodes: TABLE.nodes.map((n) => (n.name === "local" ? { ...n, role: "control-plane" } : n)) };
    const S = settings();
    const port = new Iproute2Kernel(ownershipFrom(S, OWNED_PRIORITY_SPAN), bench.node);
    try {
      const nodes = cpTable.nodes.map((n) => ({ name: n.name, addresses: n.addresses, podCidrs: [], controlPlane: n.role === "control-plane" }));
      const desired = computeDesired({ localNodeName: "local", nodes, deviceUp: true, settings: S, clusterPodCidrs: cpTable.podCidrs });
      expect(await port.apply(diff(desired, await port.readOwned()))).toEqual([]);
      // Control: without the guard, a forged reply mark on a free exempt port reaches main (the underlay).
      expect(await guard.remove()).toBe(true);
      expect(
        await seen(bench.peer, UNDERLAY, "tcpdport:5001", () => expect(probe(bench.node, ["tcp", "198.51.100.2", 5001, 2380, 0x4000000, "x"])).toBe("left")),
      ).toBeGreaterThan(0);
      const r = guardCli(["apply", "--node-name", "local"], cpTable);
      expect([r.status, r.stderr]).toEqual([0, ""]);
      // With it, the forged mark is wiped (seen by a chain between the route chain and the guard's filter) and the
      // packet is not on the underlay. (The filter chains still see the device the packet was first routed to: the
      // kernel computes the output device once per hook; so the guard judges it as underlay traffic and drops it.)
      const observe =
        "table inet nrg_observe {\n chain out {\n  type filter hook output priority -100; policy accept;\n  tcp dport 5002 meta mark & 0x4000000 == 0 counter\n }\n}\n";
      expect(spawnSync("ip", ["netns", "exec", bench.node, "nft", "-f", "-"], { input: observe }).status).toBe(0);
      const droppedBefore = (await guard.dropped())!["node-address"];
      expect(
        await seen(bench.peer, UNDERLAY, "tcpdport:5002", () => expect(probe(bench.node, ["tcp", "198.51.100.2", 5002, 2380, 0x4000000, "x"])).toBe("dropped")),
      ).toBe(0);
      const observed = spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "table", "inet", "nrg_observe"], { encoding: "utf8" }).stdout;
      expect(Number(/counter packets (\d+)/.exec(observed)![1])).toBeGreaterThan(0);
      expect((await guard.dropped())!["node-address"]).toBeGreaterThan(droppedBefore);
      spawnSync("ip", ["netns", "exec", bench.node, "nft", "delete", "table", "inet", "nrg_observe"]);
      // A peer opens a connection to 6443: the reply gets the mark, the rule sends it to main, the guard lets it leave.
      const server = spawn("ip", ["netns", "exec", bench.node, "python3", PROBE, "serve", "6443", "REPLY6443"], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise((resolve) => server.stdout.once("data", resolve));
      expect(probe(bench.peer, ["fetch", "198.51.100.2", "198.51.100.1", 6443])).toBe("REPLY6443");
      await new Promise((resolve) => server.on("close", resolve));
      // A raw segment from 6443 is no reply; a bound free exempt port neither (dropped without routes to steer it).
      expect(await seen(bench.peer, UNDERLAY, "CPRAW", () => probe(bench.node, ["raw", "tcp-6443", "198.51.100.1", "198.51.100.2", "CPRAW"]))).toBe(0);
      const list = spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "chain", "inet", GUARD_TABLE, "to_node"], { encoding: "utf8" }).stdout;
      expect(list).toContain("ct direction reply tcp sport @exempt_ports accept");
    } finally {
      await port.apply(diff({ rules: [], routes: [] }, await port.readOwned()));
      port.close();
    }
    const before = await guard.dropped();
    expect(guardCli(["apply", "--node-name", "local"]).status).toBe(0);
    expect(await guard.dropped()).toEqual(before); // applying again keeps the counters
    expect(tcp("198.51.100.2", 5000)).toBe("dropped");
  });

  it("an element update moves one node in and one out, in one transaction", async () => {
    const S = settings();
    const nodes = (t: typeof TABLE) => t.nodes.map((n) => ({ name: n.name, addresses: n.addresses, controlPlane: n.role === "control-plane" }));
    const next = { ...TABLE, nodes: [...TABLE.nodes.filter((n) => n.name !== "w2"), { name: "w4", role: "worker", addresses: ["198.51.100.4"] }] };
    const update = guardElementUpdate(
      guardElements({ localNodeName: "local", nodes: nodes(TABLE), podCidrs: TABLE.podCidrs, settings: S }),
      guardElements({ localNodeName: "local", nodes: nodes(next), podCidrs: next.podCidrs, settings: S }),
    );
    ip(bench.peer, `addr add 198.51.100.4/32 dev ${UNDERLAY}`);
    expect(tcp("198.51.100.4", 5000)).toBe("left");
    await guard.update(update!);
    expect(tcp("198.51.100.4", 5000)).toBe("dropped");
    expect(tcp("198.51.100.2", 5000)).toBe("left");
    expect(guardCli(["apply", "--node-name", "local"]).status).toBe(0); // back to TABLE, whole
    expect(tcp("198.51.100.4", 5000)).toBe("left");
  });

  it("refuses a bad table with exit 2 and a message naming the entry; the installed guard stays", async () => {
    const bad = { ...TABLE, nodes: [...TABLE.nodes, { name: "w9", role: "worker", addresses: ["198.51.100.300"] }] };
    const r = guardCli(["apply", "--node-name", "local"], bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nodes[3] ("w9").addresses[0]: "198.51.100.300" is not a host address');
    expect(tcp("198.51.100.2", 5000)).toBe("dropped");
  });

  it("uninstall removes the guard with the rules and routes, and nothing else", async () => {
    const port = new Iproute2Kernel(ownershipFrom(settings(), OWNED_PRIORITY_SPAN), bench.node);
    spawnSync("ip", ["netns", "exec", bench.node, "nft", "add", "table", "inet", "foreign"]);
    const result = await uninstall(port, guard);
    port.close();
    expect(result.guardRemoved).toBe(true);
    expect(await guard.dropped()).toBeUndefined();
    expect(spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "table", "netdev", GUARD_UNDERLAY_TABLE]).status).not.toBe(0);
    expect(tcp("198.51.100.2", 5000)).toBe("left");
    expect(spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "tables"], { encoding: "utf8" }).stdout.trim()).toBe("table inet foreign");
  });
});
