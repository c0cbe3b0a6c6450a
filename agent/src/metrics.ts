// Prometheus metrics (prom-client) in their own registry, so tests can build several.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { GUARD_REASONS, type GuardReason } from "./guard";
import type { NodeTable } from "./nodeTable";
import { tableNodesWithoutPeer } from "./peers";

export type ErrorKind = "apply" | "kernel-read" | "api" | "input" | "link-monitor" | "claim" | "node-table" | "guard" | "wireguard";
const ERROR_KINDS: ErrorKind[] = ["apply", "kernel-read", "api", "input", "link-monitor", "claim", "node-table", "guard", "wireguard"];

/** Node-table mode: where the table and the WireGuard device's allowed IPs are read at scrape time. */
export interface TableSource {
  localNodeName: string;
  table(): NodeTable | undefined;
  allowedIps(): Promise<string[]>;
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
  readonly ownedRoutes = new Gauge({ name: "node_router_owned_routes", help: "Routes the agent owns in its tables", labelNames: ["type"], registers: [this.registry] });
  readonly remoteNodes = new Gauge({ name: "node_router_remote_nodes_covered", help: "Remote nodes with at least one steered prefix", registers: [this.registry] });
  readonly deviceUp = new Gauge({ name: "node_router_device_up", help: "1 when the WireGuard device exists and is up", registers: [this.registry] });
  readonly errors = new Counter({ name: "node_router_errors_total", help: "Errors by kind", labelNames: ["kind"], registers: [this.registry] });
  readonly lastSuccess = new Gauge({ name: "node_router_last_successful_reconcile_timestamp_seconds", help: "Unix time of the last reconcile that applied without error", registers: [this.registry] });

  readonly departedNodes = new Gauge({ name: "node_router_departed_nodes", help: "Nodes that left and are still steered and guarded (leave grace period)", registers: [this.registry] });
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
  }
}
