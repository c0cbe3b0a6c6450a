// The egress guard in a network namespace: installed with the real CLI (`main.js guard apply`,
// as the boot script and the lab run it), loaded by the real `nft`, and tested with packets.
// A TCP connect that is refused left the node (the peer answered with a reset); one that times
// out was dropped on the way out. Drop counters are read back the way /metrics reads them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GUARD_TABLE, guardElements, guardElementUpdate } from "../../src/guard";
import { NftGuard } from "../../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import { uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { settings } from "../fixtures";
import { createBench, DEVICE, ip, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

const MAIN = join(__dirname, "../../../dist/agent/src/main.js");
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

function guardCli(args: string[], table: unknown = TABLE) {
  const file = join(dir, "node-table.json");
  writeFileSync(file, typeof table === "string" ? table : JSON.stringify(table));
  return spawnSync("ip", ["netns", "exec", bench.node, process.execPath, MAIN, "guard", ...args, "--node-table", file], { encoding: "utf8" });
}

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
  // The peer plays every other node (and a host outside the cluster) on the underlay.
  for (const a of ["198.51.100.2", "198.51.100.3", "198.18.7.7"]) ip(bench.peer, `addr add ${a}/32 dev ${UNDERLAY}`);
  ip(bench.peer, `addr add 192.0.2.1/32 dev ${UNDERLAY}`);
  ip(bench.node, `route add 198.18.0.0/16 via 198.51.100.254 dev ${UNDERLAY}`);
});

afterAll(() => {
  bench?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("egress guard with the real nft", () => {
  it("before the guard, cleartext to other nodes leaves (the bench is sound)", () => {
    expect([tcp("198.51.100.2", 5000), tcp("198.51.100.3", 5000), tcp("198.18.7.7", 5000)]).toEqual(["left", "left", "left"]);
  });

  it("guard apply loads the table; node addresses and pod CIDRs are dropped on the underlay, other destinations are not", async () => {
    const r = guardCli(["apply", "--node-name", "local"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(await guard.dropped()).toEqual({ "node-address": 0, "pod-cidr": 0, "wireguard-reply": 0 });
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

  it("lets TCP to a control plane's exempt ports, WireGuard's marked packets and the WireGuard device through", async () => {
    expect(tcp("198.51.100.3", 6443)).toBe("left");
    expect(tcp("198.51.100.3", 2380)).toBe("left");
    const before = (await guard.dropped())!["node-address"];
    expect(ping("198.51.100.2", ["-m", String(0xe00)])).toBe(true); // marked: WireGuard's own
    expect(ping("198.51.100.2", ["-m", String(0x1e00)])).toBe(true); // mark 0xe00 under mask 0xf00
    expect(ping("198.51.100.2", ["-m", String(0x200)])).toBe(false); // another mark: dropped
    ip(bench.node, `route add 198.51.100.2/32 dev ${DEVICE}`);
    ping("198.51.100.2"); // into the stand-in device: no answer, but not dropped by the guard
    ip(bench.node, `route del 198.51.100.2/32 dev ${DEVICE}`);
    expect((await guard.dropped())!["node-address"]).toBe(before + 1);
  });

  it("on a control plane, replies from its exempt ports may leave; applying again keeps the counters", async () => {
    const before = await guard.dropped();
    expect(guardCli(["apply", "--node-name", "cp3"]).status).toBe(0);
    expect(await guard.dropped()).toEqual(before);
    const list = spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "chain", "inet", GUARD_TABLE, "to_node"], { encoding: "utf8" }).stdout;
    expect(list).toContain("tcp sport @exempt_ports accept");
    expect(guardCli(["apply", "--node-name", "local"]).status).toBe(0);
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
    expect(tcp("198.51.100.2", 5000)).toBe("left");
    expect(spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "tables"], { encoding: "utf8" }).stdout.trim()).toBe("table inet foreign");
  });
});
