// Prometheus metrics (prom-client) in their own registry, so tests can build several.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { GUARD_REASONS, type GuardReason } from "./guard";
import type { NodeTable } from "./nodeTable";
import { HANDSHAKE_STALE_SECONDS as HANDSHAKE_STALE, tableHandshakes, tableNodesWithoutPeer, type WgPeer } from "./peers";

export type ErrorKind = "apply" | "kernel-read" | "api" | "input" | "link-monitor" | "claim" | "node-table" | "guard" | "wireguard";
const ERROR_KINDS: ErrorKind[] = ["apply", "kernel-read", "api", "input", "link-monitor", "claim", "node-table", "guard", "wireguard"];

/** Node-table mode: where the table and the WireGuard device's allowed IPs are read at scrape time. */
export interface TableSource {
  localNodeName: string;
  table(): NodeTable | undefined;
  allowedIps(): Promise<string[]>;
  /** The device's peers with their latest handshakes (`wg show <device> dump`). */
  peers(): Promise<WgPeer[]>;
  /** Told the names behind node_router_table_nodes_without_peer after each read (for the log). */
  onWithoutPeer?(names: string[]): void;
  /** Told why the device's peers could not be read (counted as errors{kind="wireguard"}). */
  onReadError?(message: string): void;
}

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: "node_router_reconcile_duration_seconds",
    help: "Time of one reconcile step (desired state, kernel read when needed, diff, apply)",
    labelNames: ["kernel_read"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly ownedRules = new Gauge({ name: "node_router_owned_rules", help: "ip rules the agent owns (both families)", registers: [this.registry] });
  readonly ownedRoutes = new Gauge({
    name: "node_router_owned_routes",
    help: "Routes the agent owns in its tables",
    labelNames: ["type"],
    registers: [this.registry],
  });
  readonly remoteNodes = new Gauge({
    name: "node_router_remote_nodes_covered",
    help: "Remote nodes with at least one steered prefix",
    registers: [this.registry],
  });
  readonly deviceUp = new Gauge({ name: "node_router_device_up", help: "1 when the WireGuard device exists and is up", registers: [this.registry] });
  readonly errors = new Counter({ name: "node_router_errors_total", help: "Errors by kind", labelNames: ["kind"], registers: [this.registry] });
  readonly lastSuccess = new Gauge({
    name: "node_router_last_successful_reconcile_timestamp_seconds",
    help: "Unix time of the last reconcile that applied without error",
    registers: [this.registry],
  });

  readonly guardLoaded = new Gauge({
    name: "node_router_guard_loaded_for_table",
    help: "Node-table mode: 1 when the last step left the egress guard loaded for the table in use, 0 when loading it failed",
    registers: [this.registry],
  });
  readonly departedNodes = new Gauge({
    name: "node_router_departed_nodes",
    help: "Nodes that left and are still steered and guarded (leave grace period)",
    registers: [this.registry],
  });
  /** Where the guard's kernel counters are read at scrape time (set when a guard is in use). */
  guardSource?: () => Promise<Record<GuardReason, number> | undefined>;
  readonly guardDropped: Counter<"reason">;

  constructor() {
    for (const kind of ERROR_KINDS) this.errors.inc({ kind }, 0);
    const source = () => this.guardSource?.();
    // The kernel's counters are the truth (they survive agent restarts): copied at scrape time.
    this.guardDropped = new Counter({
      name: "node_router_guard_dropped_packets_total",
      help: "Packets the egress guard dropped because they would have left the node in the clear, by reason",
      labelNames: ["reason"],
      registers: [this.registry],
      async collect() {
        const counts = await source()?.catch(() => undefined);
        if (!counts) return;
        this.reset();
        for (const reason of Object.keys(GUARD_REASONS) as GuardReason[]) this.inc({ reason }, counts[reason]);
      },
    });
  }

  /**
   * Node-table mode only (without a table these series do not exist): the table's size, so alerts
   * can compare it with the number of agents reporting, and its nodes that have no WireGuard peer
   * on this node's device (NaN while there is no table yet or the device cannot be read).
   */
  watchTable(source: TableSource): void {
    const errors = this.errors;
    new Gauge({
      name: "node_router_table_nodes",
      help: "Nodes in the node table this agent uses (this node included)",
      registers: [this.registry],
      collect() {
        this.set(source.table()?.nodes.length ?? 0);
      },
    });
    new Gauge({
      name: "node_router_table_nodes_without_peer",
      help: "Other nodes of the node table with an address no WireGuard peer on the device allows (traffic to them is dropped)",
      registers: [this.registry],
      async collect() {
        const table = source.table();
        if (!table) return this.set(NaN);
        try {
          const missing = tableNodesWithoutPeer(table, source.localNodeName, await source.allowedIps());
          source.onWithoutPeer?.(missing);
          this.set(missing.length);
        } catch (e) {
          errors.inc({ kind: "wireguard" });
          source.onReadError?.((e as Error).message);
          this.set(NaN);
        }
      },
    });
    // Per node, not per peer: a series per peer would be N x (N - 1) cluster-wide (25 million at
    // 5,000 nodes). `main.js status` lists every peer's age on one node.
    const handshakes = async () => {
      const table = source.table();
      return table ? tableHandshakes(table, source.localNodeName, await source.peers(), Date.now() / 1000) : undefined;
    };
    new Gauge({
      name: "node_router_table_nodes_stale_handshake",
      help: `Other nodes of the node table whose WireGuard peer has had no handshake within ${HANDSHAKE_STALE}s, or none yet (traffic to them is dropped until one succeeds)`,
      registers: [this.registry],
      async collect() {
        const h = await handshakes().catch(() => undefined);
        this.set(h ? h.stale.length : NaN);
      },
    });
    new Gauge({
      name: "node_router_peer_handshake_age_max_seconds",
      help: "The oldest latest-handshake among the WireGuard peers of the node table's other nodes, in seconds",
      registers: [this.registry],
      async collect() {
        const h = await handshakes().catch(() => undefined);
        this.set(h?.maxAgeSeconds ?? NaN);
      },
    });
  }
}
