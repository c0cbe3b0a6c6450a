// The long-running `nft -i` child behind the guard's element updates, with the real nft in a
// network namespace: a request is one transaction (all or nothing), a refusal is attributed to
// its own request and never to the next, and a child that dies, cannot start or hangs fails only
// the request in flight; the next request gets a new child. Through the reconciler, a node
// joining the table changes the guard without starting any nft process.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GUARD_TABLE, guardRuleset } from "../../src/guard";
import { NftGuard } from "../../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../../src/kernel";
import type { NodeTable } from "../../src/nodeTable";
import { NftSession } from "../../src/nftSession";
import { Reconciler, uninstall } from "../../src/reconciler";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { settings } from "../fixtures";
import { createBench, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

const S = settings();
const TABLE: NodeTable = {
  podCidrs: ["198.18.0.0/16"],
  nodes: [
    { name: "local", role: "worker", addresses: ["198.51.100.1"] },
    { name: "w2", role: "worker", addresses: ["198.51.100.2"] },
  ],
};
const guardNodes = (t: NodeTable) => t.nodes.map((n) => ({ name: n.name, addresses: n.addresses, controlPlane: n.role === "control-plane" }));
const add = (a: string, chain = "to_node") => `add element inet ${GUARD_TABLE} nodes4 { ${a} : jump ${chain} }`;
const del = (a: string) => `delete element inet ${GUARD_TABLE} nodes4 { ${a} }`;

let bench: Bench;
let dir: string;
let session: NftSession;

/** The guard's IPv4 map as the kernel holds it: address -> chain. */
function elements(): Map<string, string> {
  const r = spawnSync("ip", ["netns", "exec", bench.node, "nft", "list", "map", "inet", GUARD_TABLE, "nodes4"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return new Map([...r.stdout.matchAll(/([\d.]+) : jump (\w+)/g)].map((m) => [m[1], m[2]]));
}

/** A stand-in for nft: logs how it was started, then runs the real one (or `body`). */
function fakeNft(name: string, body = 'exec nft "$@"'): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "$*" >> ${join(dir, `${name}.log`)}\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** This process's children that are still running (zombies are not): pid -> command name. */
function runningChildren(): Map<number, string> {
  const children = new Map<number, string>();
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      // "pid (comm) state ppid ...": comm may contain spaces, so read after its closing paren.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === process.pid && state !== "Z") children.set(Number(entry), stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Waits until none of `pids` runs any more; returns those still running after `ms`. */
async function stillRunning(pids: number[], ms = 3000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z "));
  }
  return left;
}

beforeAll(async () => {
  requireRootAndIp();
  if (spawnSync("nft", ["--version"]).status !== 0) throw new Error("the nft session's kernel test needs nft: apt-get install nftables");
  bench = createBench("nrs");
  dir = mkdtempSync(join(tmpdir(), "nrs-"));
  await new NftGuard(bench.node).apply(guardRuleset({ localNodeName: "local", nodes: guardNodes(TABLE), podCidrs: TABLE.podCidrs, settings: S }), [UNDERLAY]);
  session = new NftSession(["ip", "netns", "exec", bench.node]);
});

afterAll(() => {
  session?.close();
  bench?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("NftSession", () => {
  it("applies each request as one transaction and attributes a refusal to its own request", async () => {
    expect(await session.run([add("198.51.100.3"), add("198.51.100.4", "to_control_plane")])).toBe("");
    expect(elements()).toEqual(
      new Map([
        ["198.51.100.2", "to_node"],
        ["198.51.100.3", "to_node"],
        ["198.51.100.4", "to_control_plane"],
      ]),
    );
    const pid = session.pid;
    // The delete of an element that is not there fails the whole request: the add before it is not applied either.
    const refused = await session.run([add("198.51.100.5"), del("198.51.100.99")]);
    expect(refused).toMatch(/Error: .*No such file or directory/);
    expect(refused).toContain("198.51.100.99");
    expect(elements().has("198.51.100.5")).toBe(false);
    // The next request gets its own answer (nothing of the refusal), on the same child.
    expect(await session.run([del("198.51.100.3"), add("198.51.100.6")])).toBe("");
    expect(await session.run([add("198.51.100.7", "no_such_chain")])).toMatch(/no_such_chain/);
    expect(await session.run([add("198.51.100.8")])).toBe("");
    expect(session.pid).toBe(pid);
    expect([...elements().keys()].sort()).toEqual(["198.51.100.2", "198.51.100.4", "198.51.100.6", "198.51.100.8"]);
  });

  it("refuses a request that is not one line (it could not be one transaction)", async () => {
    await expect(session.run([`${add("198.51.100.9")}\n${del("198.51.100.9")}`])).rejects.toThrow(/one line/);
    expect(await session.run([del("198.51.100.8")])).toBe("");
  });

  it("a child killed between requests is replaced by the next request", async () => {
    const before = session.pid!;
    process.kill(before, "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
    expect(await session.run([add("198.51.100.10")])).toBe("");
    expect(session.pid).not.toBe(before);
    expect(elements().get("198.51.100.10")).toBe("to_node");
  });

  it("a child that dies during a request fails that request only; the next one gets a new child", async () => {
    // 60,000 elements keep nft busy long enough to be killed in the middle.
    const many = Array.from({ length: 60_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} : jump to_node`).join(", ");
    const pending = session.run([`add element inet ${GUARD_TABLE} nodes4 { ${many} }`]);
    const pid = session.pid!;
    setTimeout(() => process.kill(pid, "SIGKILL"), 20);
    await expect(pending).rejects.toThrow(/nft session exited/);
    expect(await session.run([add("198.51.100.11")])).toBe("");
    expect(elements().get("198.51.100.11")).toBe("to_node");
  });

  it("rejects when nft cannot start, exits at once, or stops answering", async () => {
    await expect(new NftSession([], "/nonexistent/nft").run([add("198.51.100.12")])).rejects.toThrow(/nft session (failed|exited)/);
    await expect(new NftSession([], fakeNft("exits", "exit 3")).run([add("198.51.100.12")])).rejects.toThrow(/nft session exited \(3\)/);
    const hung = new NftSession([], fakeNft("hangs", "exec sleep 600"), 300);
    await expect(hung.run([add("198.51.100.12")])).rejects.toThrow(/no answer within 300 ms/);
    expect(hung.pid).toBeUndefined();
  });
});

describe("NftSession children", () => {
  it("replaces its child after `recycleAfter` requests, every answer still its own, and the old child exits", async () => {
    const recycled = new NftSession(["ip", "netns", "exec", bench.node], "nft", undefined, 3);
    const pids: number[] = [];
    try {
      for (let i = 0; i < 7; i++) {
        // Every other request is refused: a refusal must stay with its request across the switch.
        const a = `198.51.100.${30 + i}`;
        expect(await recycled.run([add(a)])).toBe("");
        expect(await recycled.run([del(`198.51.100.${130 + i}`)])).toMatch(/No such file or directory/);
        pids.push(recycled.pid!);
      }
      expect(new Set(pids).size).toBe(5); // 14 requests, 3 per child
      expect(await stillRunning([...new Set(pids)].slice(0, -1))).toEqual([]);
      expect([30, 31, 32, 33, 34, 35, 36].every((i) => elements().get(`198.51.100.${i}`) === "to_node")).toBe(true);
    } finally {
      recycled.close();
    }
    expect(await stillRunning(pids.slice(-1))).toEqual([]);
  });

  it("leaves no child process behind: closed, killed, hung and failed sessions alike", async () => {
    const before = new Set(runningChildren().keys());
    const closed = new NftSession(["ip", "netns", "exec", bench.node]);
    expect(await closed.run([add("198.51.100.40")])).toBe("");
    const killed = new NftSession(["ip", "netns", "exec", bench.node]);
    expect(await killed.run([add("198.51.100.41")])).toBe("");
    const hung = new NftSession([], fakeNft("hangs-too", "exec sleep 600"), 200);
    const hanging = hung.run([add("198.51.100.42")]);
    while (hung.pid === undefined) await new Promise((r) => setImmediate(r)); // run() starts the child a tick later
    const started = [...runningChildren().keys()].filter((p) => !before.has(p));
    expect(started).toHaveLength(3);
    process.kill(killed.pid!, "SIGKILL");
    closed.close();
    await expect(hanging).rejects.toThrow(/no answer/);
    await expect(new NftSession([], fakeNft("exits-too", "exit 1")).run([add("198.51.100.43")])).rejects.toThrow(/exited/);
    expect(await stillRunning(started)).toEqual([]);
    expect([...runningChildren().keys()].filter((p) => !before.has(p))).toEqual([]);
  });
});

describe("the guard through the reconciler", () => {
  it("a node joining the table changes the guard through the session, without starting nft", async () => {
    const nft = fakeNft("counted");
    const guard = new NftGuard(bench.node, nft);
    const port = new Iproute2Kernel(ownershipFrom(S, OWNED_PRIORITY_SPAN), bench.node);
    let table = TABLE;
    const r = new Reconciler(port, S, "local", () => ({ nodes: [], ciliumNodes: [] }), { nodeTable: () => table, guard });
    r.markSynced();
    try {
      expect((await r.step({ readKernel: true }))?.guard).toEqual({ applied: true });
      for (const i of [20, 21, 22]) {
        table = { ...table, nodes: [...table.nodes, { name: `w${i}`, role: "worker", addresses: [`198.51.100.${i}`] }] };
        const join = await r.step({ readKernel: false });
        expect([join?.errors, join?.guard]).toEqual([[], { applied: true }]);
      }
      expect([...elements().keys()].sort()).toEqual(["198.51.100.2", "198.51.100.20", "198.51.100.21", "198.51.100.22"]);
      // One whole load (nft -f) for the kernel read, then one long-running nft -i for all three joins.
      expect(readFileSync(join(dir, "counted.log"), "utf8").trim().split("\n")).toEqual([`-D UNDERLAY={ { "${UNDERLAY}" } } -f -`, "-i"]);
    } finally {
      guard.close();
      await uninstall(port, guard);
      port.close();
    }
  });
});
