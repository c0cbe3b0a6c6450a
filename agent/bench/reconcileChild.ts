// One benchmark size in a FRESH process (agentBench.ts starts it with --child N ipv4|dual):
// rules installed, full reconcile from empty, restart adoption, one node joining, and memory by
// phase. Prints one JSON row on stdout. The process loads what the real agent loads (main.js),
// so its RSS includes the agent's libraries.
import { planSize } from "../src/diff";
import "../src/informers";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import { createLogger } from "../src/log";
import { Metrics } from "../src/metrics";
import { Reconciler, uninstall } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings } from "../src/settings";
import { cleanupNamespaces, ip, localNode, median, ms, netns, remoteNode } from "./benchNet";
import { selfMemory, type MemorySample } from "./memory";

export interface ReconcileRow {
  nodes: number; family: string; rules: number; routes: number;
  firstFullMs: number; fullMs: number; adoptMs: number; joinMs: number;
  rssMB: number; heapMB: number; runtimeRssMB: number;
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

export async function reconcileChild(n: number, dual: boolean, repeats: number): Promise<ReconcileRow> {
  const settings = parseSettings([], { NODE_NAME: "local" });
  new Metrics();
  createLogger("info");
  const loaded = selfMemory();
  const ns = nodeNamespace(`r${n}${dual ? "d" : "4"}`, "198.51.100.1");
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
  try {
    let objects = [localNode("198.51.100.1", dual), ...Array.from({ length: n }, (_, i) => remoteNode(i, dual))];
    // The informer cache hands out a new array and, for a changed node, a new object; the rest
    // are the same objects as before.
    const fresh = () => {
      const r = new Reconciler(port, settings, "local", () => ({ nodes: objects, ciliumNodes: [] }));
      r.markSynced();
      return r;
    };
    // What an agent holding this state uses: a fresh process that applied everything from empty,
    // then resynced once (a full kernel read) and took one node joining. Measured before the
    // timing loops below, which create and drop many more states than an agent ever does.
    let reconciler = fresh();
    await uninstall(port);
    const t0 = process.hrtime.bigint();
    const first = await reconciler.step({ readKernel: true });
    const full: number[] = [ms(t0)];
    if (!first || first.errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(first?.errors.slice(0, 3))}`);
    const applied = selfMemory();
    await reconciler.step({ readKernel: true });
    const resynced = selfMemory();
    objects = [...objects, remoteNode(n + 1000, dual)];
    await reconciler.step({ readKernel: false });
    const joined = selfMemory();
    objects = objects.slice(0, -1);

    for (let rep = 1; rep < repeats; rep++) {
      await uninstall(port);
      reconciler = fresh();
      const t0 = process.hrtime.bigint();
      const result = await reconciler.step({ readKernel: true });
      full.push(ms(t0));
      if (!result || result.errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(result?.errors.slice(0, 3))}`);
    }
    const adopt: number[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      const restarted = fresh();
      const t0 = process.hrtime.bigint();
      const result = await restarted.step({ readKernel: true });
      adopt.push(ms(t0));
      if (planSize(result!.plan) !== 0) throw new Error("restart adoption changed something");
    }
    const join: number[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      objects = [...objects, remoteNode(n + rep, dual)];
      const t0 = process.hrtime.bigint();
      const result = await reconciler.step({ readKernel: false });
      join.push(ms(t0));
      if (!result || result.plan.add.routes.length === 0 || result.errors.length > 0) throw new Error("join did not add routes");
    }
    const rules = ip(ns, "-4 rule show").trim().split("\n").length + ip(ns, "-6 rule show").trim().split("\n").length - 5; // minus the 5 default rules
    const owned = await port.readOwned();
    return {
      nodes: n, family: dual ? "dual" : "ipv4", rules, routes: owned.routes.length,
      firstFullMs: full[0], fullMs: median(full), adoptMs: median(adopt), joinMs: median(join),
      rssMB: joined.rssMB, heapMB: joined.heapUsedMB ?? 0, runtimeRssMB: loaded.rssMB,
      phases: { loaded, applied, resynced, joined }, nodeFlags: process.execArgv,
    };
  } finally {
    port.close();
    cleanupNamespaces();
  }
}
