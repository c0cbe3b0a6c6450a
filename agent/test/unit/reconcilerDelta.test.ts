// The delta step against the full step as its oracle: two reconcilers see the same seeded random
// sequences of joins, leaves, claim changes (honest and forged), table edits, peers going and
// time passing; one takes delta steps where it can (informer events by name, table changes from
// parseNodeTable's lineage), the other only full steps. After every step both kernels (an
// in-memory route table and guard maps that refuse a delete of a missing element) hold the same.
import type { GuardPort } from "../../src/guardKernel";
import type { ApplyError, KernelPort, LinkState } from "../../src/kernel";
import type { KernelState, Plan } from "../../src/model";
import { NodeTableError, parseNodeTable, type NodeTable } from "../../src/nodeTable";
import type { WgPeer } from "../../src/peers";
import { Reconciler, type ReconcileResult } from "../../src/reconciler";
import { applyPlanTo, ciliumNode, CP_LABEL, node, seededRandom, settings } from "../fixtures";

class MemoryKernel implements KernelPort {
  state: KernelState = { rules: [], routes: [] };
  async readOwned(): Promise<KernelState> {
    return { rules: [...this.state.rules], routes: this.state.routes.map((r) => ({ ...r })) };
  }
  async apply(plan: Plan): Promise<ApplyError[]> {
    this.state = applyPlanTo(this.state, plan);
    return [];
  }
  async linkState(): Promise<LinkState> {
    return { exists: true, up: true };
  }
  view(): string[] {
    return this.state.routes.map((r) => `${r.table} ${r.type} ${r.dst} ${r.src ?? ""}`).sort();
  }
}

/** The guard's node maps as nft keeps them: a whole load replaces them, an update adds and deletes (a missing element's delete fails, as nft's does). */
class MemoryGuard implements GuardPort {
  maps = new Map<string, Map<string, string>>();
  async apply(script: string): Promise<void> {
    this.maps = new Map();
    let table = "";
    let open: Map<string, string> | undefined;
    for (const raw of script.split("\n")) {
      const line = raw.trim();
      const t = /^table (\w+ \w+) \{$/.exec(line);
      if (t) table = t[1];
      const m = /^map (nodes[46]) \{$/.exec(line);
      if (m) this.maps.set(`${table} ${m[1]}`, (open = new Map()));
      const e = /^elements = \{ (.*) \}$/.exec(line);
      if (e && open) {
        for (const item of e[1].split(", ")) {
          const [k, v] = item.split(" : jump ");
          open.set(k, v);
        }
      }
      if (line === "}") open = undefined;
    }
  }
  async update(commands: string[]): Promise<void> {
    for (const c of commands) {
      const m = /^(add|delete) element (\w+ \w+) (nodes[46]) \{ (.*) \}$/.exec(c);
      if (!m) throw new Error(`unexpected command ${c}`);
      const map = this.maps.get(`${m[2]} ${m[3]}`);
      if (!map) throw new Error(`no map ${m[2]} ${m[3]}`);
      for (const item of m[4].split(", ")) {
        const [k, v] = item.split(" : jump ");
        if (m[1] === "delete") {
          if (!map.delete(k)) throw new Error(`Error: Could not process rule: No such file or directory: delete element ${k}`);
        } else {
          if (map.has(k) && map.get(k) !== v) throw new Error(`Error: Could not process rule: File exists: add element ${k}`);
          map.set(k, v);
        }
      }
    }
  }
  async remove(): Promise<boolean> {
    return true;
  }
  async dropped(): Promise<undefined> {
    return undefined;
  }
  view(): string[] {
    return [...this.maps].flatMap(([name, m]) => [...m].map(([k, v]) => `${name} ${k} ${v}`)).sort();
  }
}

interface Remote {
  name: string;
  role: "worker" | "control-plane";
  addresses: string[];
}

describe("delta steps reach the kernel state full steps reach", () => {
  it("on 1,000 seeded sequences of joins, leaves, claim changes, table edits, peers going and time passing, with and without a table", async () => {
    let deltaSteps = 0;
    let deltaStepsWithoutTable = 0;
    let fullSteps = 0;
    let compared = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const r = seededRandom(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
      const dual = r() < 0.3;
      // Every third sequence without a table: identity from the API alone, no guard.
      const tableMode = seed % 3 !== 0;
      const s = settings({ NODE_ROUTER_LEAVE_GRACE_SECONDS: "30" });
      let serial = 10;
      const freshRemote = (): Remote => {
        serial++;
        return {
          name: `n${serial}`,
          role: r() < 0.25 ? "control-plane" : "worker",
          addresses: [`198.51.100.${serial}`, ...(dual && r() < 0.7 ? [`2001:db8::${serial}`] : [])],
        };
      };
      const local: Remote = { name: "local", role: r() < 0.3 ? "control-plane" : "worker", addresses: ["198.51.100.1", ...(dual ? ["2001:db8::1"] : [])] };
      let remotes: Remote[] = Array.from({ length: 2 + Math.floor(r() * 6) }, freshRemote);
      const podCidrs = ["10.244.0.0/16", ...(dual ? ["fd00:10:244::/56"] : [])];
      const podOf = (name: string) => `10.244.${Number(name.slice(1)) % 250}.0/24`;
      const nodes = new Map<string, Record<string, unknown>>();
      const cilium = new Map<string, Record<string, unknown>>();
      const apiNode = (n: Remote, pods: string[], addresses = n.addresses) =>
        node({ name: n.name, internal: addresses, podCidrs: pods, labels: n.role === "control-plane" ? CP_LABEL : {} });
      nodes.set("local", apiNode(local, ["10.244.255.0/24"]));
      for (const n of remotes) nodes.set(n.name, apiNode(n, [podOf(n.name)]));
      let peers: WgPeer[] = [];
      const left: string[] = [];
      let now = 1_000_000;
      const text = () => JSON.stringify({ podCidrs, nodes: [local, ...remotes] });

      // The delta side's table comes from parseNodeTable's lineage, as NodeTableFile's does.
      let deltaTable: NodeTable = parseNodeTable(text());
      let fullTable: NodeTable = parseNodeTable(text());
      const changed = new Set<string>();
      const sides = [
        { kernel: new MemoryKernel(), guard: new MemoryGuard(), table: () => deltaTable, delta: true },
        { kernel: new MemoryKernel(), guard: new MemoryGuard(), table: () => fullTable, delta: false },
      ].map((side) => ({
        ...side,
        r: new Reconciler(side.kernel, s, "local", () => ({ nodes: [...nodes.values()], ciliumNodes: [...cilium.values()] }), {
          ...(tableMode ? { nodeTable: side.table, guard: side.guard } : {}),
          now: () => now,
          peers: async () => peers,
          ...(side.delta ? { lookup: { node: (name: string) => nodes.get(name), ciliumNode: (name: string) => cilium.get(name) } } : {}),
        }),
      }));
      const publish = () => {
        try {
          deltaTable = parseNodeTable(text(), deltaTable);
          fullTable = parseNodeTable(text());
        } catch (e) {
          if (!(e instanceof NodeTableError)) throw e; // an invalid table is not taken: the last good one stays
        }
      };
      const api = (name: string) => {
        changed.add(name);
        sides[0].r.noteApiChange(name);
      };
      const events: [string, () => void, number?][] = [
        [
          "join",
          () => {
            // Sometimes with the address of a node that left (and may still be held).
            const reused = left.length > 0 && r() < 0.2 ? pick(left) : undefined;
            const n = reused ? { ...freshRemote(), addresses: [reused] } : freshRemote();
            remotes = [...remotes, n];
            publish();
            nodes.set(n.name, apiNode(n, [podOf(n.name)]));
            api(n.name);
          },
          4,
        ],
        [
          "leave",
          () => {
            const n = pick(remotes);
            if (!n) return;
            remotes = remotes.filter((x) => x !== n);
            left.push(n.addresses[0]);
            publish();
            nodes.delete(n.name);
            // Its CiliumNode sometimes goes later, as an event of its own.
            if (r() < 0.5) cilium.delete(n.name);
            else cilium.set(n.name, ciliumNode(n.name, [podOf(n.name)]));
            api(n.name);
            if (r() < 0.5) peers = [...peers, { endpoint: n.addresses[0], allowedIps: [`${n.addresses[0]}/32`] }];
          },
          3,
        ],
        ["table only: a node gone from the table, still in the API", () => void ((remotes = remotes.slice(1)), publish())],
        [
          "claim: a new honest pod CIDR (the CiliumNode's)",
          () => {
            const n = pick(remotes);
            if (!n) return;
            cilium.set(n.name, ciliumNode(n.name, [`10.244.${200 + Math.floor(r() * 40)}.0/25`]));
            api(n.name);
          },
        ],
        [
          "claim: a forged pod CIDR (another's, the whole cluster's, outside, or this node's)",
          () => {
            const n = pick(remotes);
            const other = pick(remotes);
            if (!n || !other) return;
            nodes.set(n.name, apiNode(n, [pick([podOf(other.name), "10.244.0.0/16", "192.0.2.0/24", "10.244.255.0/24", "10.244.0.0/20"])]));
            api(n.name);
          },
        ],
        [
          "claim: an address not in the node's entry",
          () => {
            const n = pick(remotes);
            if (!n) return;
            nodes.set(n.name, apiNode(n, [podOf(n.name)], [...n.addresses, pick(["203.0.113.9", local.addresses[0]])]));
            api(n.name);
          },
        ],
        [
          "claims withdrawn: the Nodes as the table has them again, those that left it gone",
          () => {
            for (const n of remotes) {
              nodes.set(n.name, apiNode(n, [podOf(n.name)]));
              cilium.delete(n.name);
              api(n.name);
            }
            for (const name of nodes.keys()) {
              if (name !== "local" && !name.startsWith("stranger") && !remotes.some((n) => n.name === name)) {
                nodes.delete(name);
                api(name);
              }
            }
          },
          3,
        ],
        [
          "an unknown Node (not in the table) with a pod CIDR",
          () => {
            const name = `stranger${serial++}`;
            nodes.set(name, node({ name, podCidrs: [`10.244.${100 + (serial % 50)}.0/24`] }));
            api(name);
          },
        ],
        [
          "table edit: a role changes",
          () => {
            const n = pick(remotes);
            if (!n) return;
            remotes = remotes.map((x) => (x === n ? { ...x, role: x.role === "worker" ? "control-plane" : "worker" } : x));
            publish();
          },
        ],
        [
          "table edit: an address changes (sometimes to one a node that left still has)",
          () => {
            const n = pick(remotes);
            if (!n) return;
            const address = r() < 0.5 ? `198.51.100.${++serial}` : `198.51.100.${10 + Math.floor(r() * (serial - 10))}`;
            remotes = remotes.map((x) => (x === n ? { ...x, addresses: [address] } : x));
            publish();
          },
        ],
        ["this node's pod CIDR changes", () => void (nodes.set("local", apiNode(local, [pick(["10.244.255.0/24", "10.244.254.0/24"])])), api("local"))],
        ["a peer goes", () => void (peers = peers.slice(1)), 2],
        [
          "the CiliumNode of a node that left goes",
          () => {
            for (const name of cilium.keys()) {
              if (!nodes.has(name)) {
                cilium.delete(name);
                api(name);
              }
            }
          },
        ],
        ["time passes", () => void (now += pick([1_000, 31_000])), 2],
        ["an informer relists", () => sides[0].r.noteApiChange()],
      ];

      for (const side of sides) {
        side.r.markSynced();
        await side.r.step({ readKernel: true });
      }
      const weighted = events.flatMap((e) => Array.from({ length: e[2] ?? 1 }, () => e));
      for (let step = 0; step < 14; step++) {
        const [what, event] = pick(weighted);
        event();
        const resync = r() < 0.1;
        const results: (ReconcileResult | undefined)[] = [];
        for (const side of sides) results.push(await side.r.step({ readKernel: side.delta && resync }));
        if (results[0]?.delta) deltaSteps++;
        else fullSteps++;
        if (results[0]?.delta && !tableMode) deltaStepsWithoutTable++;
        const where = `seed ${seed}, step ${step} (${what}${resync ? ", resync" : ""})`;
        expect({ where, routes: sides[0].kernel.view(), guard: sides[0].guard.view() }).toEqual({
          where,
          routes: sides[1].kernel.view(),
          guard: sides[1].guard.view(),
        });
        expect({ where, errors: results[0]?.errors, guardError: results[0]?.guard?.error }).toEqual({ where, errors: [], guardError: undefined });
        expect({ where, departed: results[0]?.departed, covered: results[0]?.desired.remoteNodesCovered }).toEqual({
          where,
          departed: results[1]?.departed,
          covered: results[1]?.desired.remoteNodesCovered,
        });
        compared++;
      }
      // And a full step after the deltas changes nothing.
      const resync = await sides[0].r.step({ readKernel: true });
      expect({ seed, plan: resync?.plan }).toEqual({ seed, plan: { add: { rules: [], routes: [] }, remove: { rules: [], routes: [] } } });
    }
    // Both paths ran often: the deltas are the common case, the full steps judge the rest.
    expect(compared).toBe(14_000);
    expect(deltaSteps).toBeGreaterThan(4_000);
    expect(deltaStepsWithoutTable).toBeGreaterThan(1_000);
    expect(fullSteps).toBeGreaterThan(2_000);
  });
});
