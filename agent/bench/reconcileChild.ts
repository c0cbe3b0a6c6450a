// One benchmark size in a FRESH process (agentBench.ts starts it with --child N ipv4|dual table|no-table):
// rules installed, full reconcile from empty, restart adoption, one node joining, and memory by
// phase. Prints one JSON row on stdout. The process loads what the real agent loads (main.js),
// so its RSS includes the agent's libraries.
//
// "table" is the shipped configuration, built the way main.ts builds it: the node table is a
// file read by NodeTableFile, the cluster's whole pod CIDRs are steered, and every step keeps
// the egress guard (real nft) in line. A node joining is then a table change: the program adds
// the node to the table file (and its objects appear in the API); the join is timed from the
// re-read of the file to the end of the step. "no-table" is identity from the API alone.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planSize } from "../src/diff";
import { guardRuleset } from "../src/guard";
import { NftGuard } from "../src/guardKernel";
import "../src/informers";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { createLogger } from "../src/log";
import { Metrics } from "../src/metrics";
import { NodeTableFile } from "../src/nodeTableFile";
import { Reconciler, uninstall } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings } from "../src/settings";
import { cleanupNamespaces, ensureCgroup, ip, localNode, median, ms, netns, remoteNode, TableFileWriter } from "./benchNet";
import { selfMemory, type MemorySample } from "./memory";

export type Mode = "table" | "no-table";

export interface ReconcileRow {
  nodes: number;
  family: string;
  mode?: Mode;
  rules: number;
  routes: number;
  firstFullMs: number;
  fullMs: number;
  adoptMs: number;
  /** The from-empty plan applied by the port and the whole guard loaded, together, and nothing else: the kernel's share of fullMs. */
  kernelFloorMs?: number;
  joinMs: number;
  /** One node leaving (the API object deleted, and with a table, its entry removed): the step that starts its leave grace. */
  leaveMs: number;
  /** Table mode: the part of a join spent re-reading and parsing the table file. */
  tableReadMs?: number;
  /** Table mode: loading the whole guard alone (part of every full reconcile and adoption). */
  guardLoadMs?: number;
  rssMB: number;
  heapMB: number;
  runtimeRssMB: number;
  /** Memory after: loading the agent's modules, the first full apply, a resync, one join. */
  phases?: Record<"loaded" | "applied" | "resynced" | "joined", MemorySample>;
  nodeFlags?: string[];
}

/** A node namespace with the underlay address and a stand-in WireGuard device (a veth). */
export function nodeNamespace(suffix: string, address4: string): string {
  const ns = netns(suffix);
  ip(ns, "link add cilium_wg0 type veth peer name wgsink");
  ip(ns, "link set wgsink up");
  ip(ns, "link set cilium_wg0 up");
  ip(ns, `addr add ${address4}/30 dev wgsink`);
  ip(ns, "-6 addr add 2001:db8:ff::1/64 dev wgsink nodad");
  return ns;
}

/** Tells a reconciler of an informer event, as main.ts does (a baseline build from before delta steps has no such method). */
const noteApiChange = (r: object, name: string) => (r as { noteApiChange?: (name: string) => void }).noteApiChange?.(name);

/** Ends long-running children of a port, whichever build it comes from. */
const close = (x: object) => (x as { close?: () => void }).close?.();

export async function reconcileChild(n: number, dual: boolean, mode: Mode, repeats: number): Promise<ReconcileRow> {
  // The stand-in underlay holds the node's address (nodeNamespace); the guard's metadata rule needs its cgroup.
  ensureCgroup("system.slice");
  const settings = parseSettings([], { NODE_NAME: "local", NODE_ROUTER_UNDERLAY_DEVICES: "wgsink" });
  new Metrics();
  createLogger("info");
  const loaded = selfMemory();
  const ns = nodeNamespace(`r${n}${dual ? "d" : "4"}${mode === "table" ? "t" : "n"}`, "198.51.100.1");
  const dir = mkdtempSync(join(tmpdir(), "nr-bench-table-"));
  const tablePath = join(dir, "node-table.json");
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  const guard = mode === "table" ? new NftGuard(ns) : undefined;
  try {
    let objects = [localNode("198.51.100.1", dual), ...Array.from({ length: n }, (_, i) => remoteNode(i, dual))];
    const nameOf = (o: unknown) => (o as { metadata: { name: string } }).metadata.name;
    const byName = new Map(objects.map((o) => [nameOf(o), o]));
    let joined: number[] = [];
    const tableWriter = new TableFileWriter(tablePath, n, "198.51.100.1", dual);
    tableWriter.write();
    // As main.ts builds it. The file is re-read explicitly (no watch), so every read is timed.
    const tableFile = () =>
      new NodeTableFile({
        path: tablePath,
        rereadMs: 3_600_000,
        onChange: () => undefined,
        onError: (m) => {
          throw new Error(m);
        },
      });
    const fresh = async () => {
      const table = guard ? tableFile() : undefined;
      await table?.reload();
      // The informers' lookup by name, and their events (noteApiChange), as main.ts wires them.
      const lookup = { node: (name: string) => byName.get(name), ciliumNode: () => undefined };
      const r = new Reconciler(
        port,
        settings,
        "local",
        () => ({ nodes: objects, ciliumNodes: [] }),
        table ? { nodeTable: () => table.current(), guard, lookup } : { lookup },
      );
      r.markSynced();
      return { r, table };
    };
    const check = (result: Awaited<ReturnType<Reconciler["step"]>>, what: string) => {
      if (!result || result.errors.length > 0 || result.guard?.error)
        throw new Error(`${what} failed: ${JSON.stringify(result?.errors.slice(0, 3) ?? "not synced")} ${result?.guard?.error ?? ""}`);
      return result;
    };
    /** A node joining: its objects appear in the API and, with a table, it is added to the table file. */
    const join = async (agent: { r: Reconciler; table?: NodeTableFile }, id: number) => {
      const obj = remoteNode(id, dual);
      objects = [...objects, obj];
      byName.set(nameOf(obj), obj);
      noteApiChange(agent.r, nameOf(obj));
      joined = [...joined, id];
      if (agent.table) tableWriter.write(joined);
      const t0 = process.hrtime.bigint();
      await agent.table?.reload();
      const readMs = ms(t0);
      const result = check(await agent.r.step({ readKernel: false }), "join");
      if (result.plan.add.routes.length === 0) throw new Error("join did not add routes");
      return { ms: ms(t0), readMs };
    };

    // What an agent holding this state uses: a fresh process that applied everything from empty,
    // then resynced once (a full kernel read) and took one node joining. Measured before the
    // timing loops below, which create and drop many more states than an agent ever does.
    await uninstall(port, guard);
    let agent = await fresh();
    const t0 = process.hrtime.bigint();
    const fromEmpty = check(await agent.r.step({ readKernel: true }), "apply").plan;
    const full: number[] = [ms(t0)];
    const applied = selfMemory();
    check(await agent.r.step({ readKernel: true }), "resync");
    const resynced = selfMemory();
    await join(agent, n + 1000);
    const joinedMemory = selfMemory();

    // The kernel's share of a full reconcile from empty: the same plan through the same port and
    // the whole guard load, run together as the step runs them, with none of the agent's work
    // (no kernel read, identity, desired state or diff). Adding 10,000-20,000 routes through ip
    // is most of it; full-from-empty minus this is what the agent's own code costs.
    const guardScript = () => {
      const t = agent.table!.current()!;
      return guardRuleset({
        localNodeName: "local",
        nodes: t.nodes.map((x) => ({ name: x.name, addresses: x.addresses, controlPlane: x.role === "control-plane" })),
        podCidrs: t.podCidrs,
        settings,
      });
    };
    const floor: number[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      await uninstall(port, guard);
      const script = guard && agent.table ? guardScript() : undefined;
      const t0 = process.hrtime.bigint();
      const [errors] = await Promise.all([port.apply(fromEmpty), script ? guard!.apply(script, ["wgsink"]) : undefined]);
      floor.push(ms(t0));
      if (errors.length > 0) throw new Error(`kernel floor failed: ${JSON.stringify(errors.slice(0, 3))}`);
    }

    for (let rep = 1; rep < repeats; rep++) {
      await uninstall(port, guard);
      agent = await fresh();
      const t0 = process.hrtime.bigint();
      check(await agent.r.step({ readKernel: true }), "apply");
      full.push(ms(t0));
    }
    const adopt: number[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      const restarted = await fresh();
      const t0 = process.hrtime.bigint();
      const result = check(await restarted.r.step({ readKernel: true }), "adoption");
      adopt.push(ms(t0));
      if (planSize(result.plan) !== 0) throw new Error("restart adoption changed something");
    }
    // Joins and leaves are cheap next to a full step, and each is a few milliseconds that a
    // collection or a busy core can double: three times as many make their medians steady.
    const changes = 3 * repeats;
    const joins: { ms: number; readMs: number }[] = [];
    for (let rep = 0; rep < changes; rep++) joins.push(await join(agent, n + 1001 + rep));
    // Each joined node leaves again: its objects go from the API and its entry from the table.
    // It stays steered and guarded (leave grace), so the step changes nothing in the kernel: what
    // is timed is the work a change costs the agent, not the kernel's.
    const leaves: number[] = [];
    for (let rep = 0; rep < changes; rep++) {
      const id = n + 1001 + rep;
      objects = objects.filter((o) => nameOf(o) !== `n${id}`);
      byName.delete(`n${id}`);
      noteApiChange(agent.r, `n${id}`);
      joined = joined.filter((j) => j !== id);
      if (agent.table) tableWriter.write(joined);
      const t0 = process.hrtime.bigint();
      await agent.table?.reload();
      const result = check(await agent.r.step({ readKernel: false }), "leave");
      leaves.push(ms(t0));
      if (result.departed === 0) throw new Error("the node that left is not held");
    }
    let guardLoadMs: number | undefined;
    if (guard && agent.table) {
      const script = guardScript();
      const loads: number[] = [];
      for (let rep = 0; rep < repeats; rep++) {
        const t0 = process.hrtime.bigint();
        await guard.apply(script, ["wgsink"]);
        loads.push(ms(t0));
      }
      guardLoadMs = median(loads);
    }
    const rules = ip(ns, "-4 rule show").trim().split("\n").length + ip(ns, "-6 rule show").trim().split("\n").length - 5; // minus the 5 default rules
    const owned = await port.readOwned();
    return {
      nodes: n,
      family: dual ? "dual" : "ipv4",
      mode,
      rules,
      routes: owned.routes.length,
      firstFullMs: full[0],
      fullMs: median(full),
      adoptMs: median(adopt),
      kernelFloorMs: median(floor),
      joinMs: median(joins.map((j) => j.ms)),
      leaveMs: median(leaves),
      tableReadMs: guard ? median(joins.map((j) => j.readMs)) : undefined,
      guardLoadMs,
      rssMB: joinedMemory.rssMB,
      heapMB: joinedMemory.heapUsedMB ?? 0,
      runtimeRssMB: loaded.rssMB,
      phases: { loaded, applied, resynced, joined: joinedMemory },
      nodeFlags: process.execArgv,
    };
  } finally {
    close(port);
    if (guard) close(guard);
    rmSync(dir, { recursive: true, force: true });
    cleanupNamespaces();
  }
}
