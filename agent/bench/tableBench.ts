// Before and after the node table, side by side in one run, IPv4, one namespace per
// mode: routes installed, a full reconcile from empty, and one node joining. "no table" steers
// every node's pod CIDR (and its blackhole) separately; "node table" steers the cluster's whole
// pod CIDRs once, throws the local one back, and loads the egress guard (its time included, and
// shown on its own).
import { guardRuleset } from "../src/guard";
import { NftGuard } from "../src/guardKernel";
import { Iproute2Kernel, ownershipFrom } from "../src/kernel";
import type { NodeTable } from "../src/nodeTable";
import { Reconciler, uninstall } from "../src/reconciler";
import { OWNED_PRIORITY_SPAN, type Settings } from "../src/settings";
import { ip, localNode, median, ms, netns, remoteNode } from "./benchNet";
import { benchTable } from "./packetBench";

export interface TableRow {
  nodes: number;
  mode: "no table" | "node table";
  routes: number;
  fullMs: number;
  joinMs: number;
  guardLoadMs?: number;
}

export async function tableBench(sizes: number[], repeats: number, settings: Settings): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for (const n of sizes) {
    for (const mode of ["no table", "node table"] as const) {
      const ns = netns(`t${n}${mode === "node table" ? "t" : "n"}`);
      ip(ns, "link add cilium_wg0 type veth peer name wgsink");
      ip(ns, "link set wgsink up");
      ip(ns, "link set cilium_wg0 up");
      ip(ns, "addr add 198.51.100.1/30 dev wgsink");
      const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), ns);
      const guard = new NftGuard(ns);
      try {
        // This node's own pod CIDR inside the cluster's (remote nodes use 198.19.0-156.x).
        const local = { ...localNode("198.51.100.1", false), spec: { podCIDRs: ["198.19.255.0/24"] } };
        let objects = [local, ...Array.from({ length: n }, (_, i) => remoteNode(i, false))];
        let table: NodeTable = benchTable(n, "198.51.100.1");
        const fresh = () => {
          const r = new Reconciler(port, settings, "local", () => ({ nodes: objects, ciliumNodes: [] }), mode === "node table" ? { nodeTable: () => table, guard } : {});
          r.markSynced();
          return r;
        };
        const full: number[] = [];
        let reconciler = fresh();
        for (let rep = 0; rep < repeats; rep++) {
          await uninstall(port, guard);
          reconciler = fresh();
          const t0 = process.hrtime.bigint();
          const result = await reconciler.step({ readKernel: true });
          full.push(ms(t0));
          if (!result || result.errors.length > 0 || result.guard?.error) throw new Error(`apply failed: ${JSON.stringify(result?.errors.slice(0, 3) ?? result?.guard)}`);
        }
        const routes = (await port.readOwned()).routes.length;
        const join: number[] = [];
        for (let rep = 0; rep < repeats; rep++) {
          const extra = remoteNode(n + 1000 + rep, false) as { metadata: { name: string }; status: { addresses: { address: string }[] } };
          objects = [...objects, extra];
          table = { ...table, nodes: [...table.nodes, { name: extra.metadata.name, role: "worker", addresses: [extra.status.addresses[0].address] }] };
          const t0 = process.hrtime.bigint();
          const result = await reconciler.step({ readKernel: false });
          join.push(ms(t0));
          if (!result || result.plan.add.routes.length === 0 || result.errors.length > 0) throw new Error("join did not add routes");
        }
        let guardLoadMs: number | undefined;
        if (mode === "node table") {
          const script = guardRuleset({ localNodeName: "local", nodes: table.nodes.map((t) => ({ name: t.name, addresses: t.addresses, controlPlane: t.role === "control-plane" })), podCidrs: table.podCidrs, settings });
          const loads: number[] = [];
          for (let rep = 0; rep < repeats; rep++) {
            const t0 = process.hrtime.bigint();
            await guard.apply(script);
            loads.push(ms(t0));
          }
          guardLoadMs = median(loads);
        }
        rows.push({ nodes: n, mode, routes, fullMs: median(full), joinMs: median(join), guardLoadMs });
      } finally {
        port.close();
      }
    }
  }
  return rows;
}

export function printTable(rows: TableRow[], repeats: number): void {
  console.log("\nbefore/after the node table, IPv4 (medians of %d; node table rows include loading the guard)", repeats);
  console.log("nodes  mode        routes  full-from-empty-ms  one-node-join-ms  guard-load-ms");
  for (const r of rows) {
    console.log(`${String(r.nodes).padStart(5)}  ${r.mode.padEnd(10)}  ${String(r.routes).padStart(6)}  ${r.fullMs.toFixed(1).padStart(18)}  ${r.joinMs.toFixed(1).padStart(16)}  ${r.guardLoadMs === undefined ? "-".padStart(13) : r.guardLoadMs.toFixed(1).padStart(13)}`);
  }
}
