// The Grafana dashboard: a well-formed dashboard JSON with the panels the README promises, and
// every query parsed by promtool (Prometheus' own parser) and by Prometheus' grammar. That its
// metrics and labels exist in a real agent's /metrics: lab/test/metrics-contract.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { usesOfDashboard, withoutGrafanaVariables, type GrafanaDashboard } from "./metricsContract";
import { promtool } from "./promtool";

const dashboard = JSON.parse(readFileSync(join(__dirname, "node-router.dashboard.json"), "utf8")) as GrafanaDashboard & Record<string, any>;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));

describe("node-router dashboard", () => {
  it("is a Grafana dashboard: title, uid, schema version, a Prometheus data source variable", () => {
    expect(dashboard).toMatchObject({ title: "node-router", uid: "wg-mesh-node-router" });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating?.list.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("has panels with unique ids that fit the 24-column grid, each query with a unique refId and the data source variable", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels as any[]) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      const refIds = p.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      expect(p.targets.every((t: any) => typeof t.expr === "string" && t.expr.length > 0)).toBe(true);
    }
    expect(queries.length).toBeGreaterThanOrEqual(10);
  });

  it.each([
    [
      "Protection status per node",
      /node_router_device_up[\s\S]*node_router_last_successful_reconcile_timestamp_seconds[\s\S]*node_router_table_nodes_without_peer[\s\S]*node_router_table_nodes_stale_handshake[\s\S]*node_router_guard_loaded_for_table[\s\S]*node_router_peer_handshake_age_max_seconds/,
    ],
    ["Guard drops by reason", /sum by \(reason\) \(rate\(node_router_guard_dropped_packets_total/],
    ["Reconcile duration", /histogram_quantile\(0\.99, sum by \(le, kernel_read\) \(rate\(node_router_reconcile_duration_seconds_bucket/],
    ["Errors by kind", /sum by \(kind\) \(increase\(node_router_errors_total/],
    ["Node table size vs agents", /max\(node_router_table_nodes\)[\s\S]*count\(count by \(instance\) \(node_router_device_up\)\)/],
  ])("shows %s", (title, query) => {
    const panel = dashboard.panels.find((p) => p.title === title);
    expect(panel?.targets?.map((t) => t.expr).join("\n")).toMatch(query);
  });

  it("uses only the agent's metrics (node_router_*) and queries Prometheus' grammar parses", () => {
    const metrics = new Set(usesOfDashboard(dashboard).flatMap((u) => u.metric.split("|")));
    expect([...metrics].filter((m) => !m.startsWith("node_router_"))).toEqual([]);
    expect(metrics.size).toBeGreaterThanOrEqual(8);
  });

  it("has queries promtool parses (as recording rules), and promtool rejects a broken one", () => {
    const check = (exprs: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), "dashboard-"));
      try {
        const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(expr) }));
        writeFileSync(join(dir, "queries.yaml"), stringify({ groups: [{ name: "dashboard", rules }] }));
        return promtool(["check", "rules", join(dir, "queries.yaml")]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const all = queries.map((q) => q.target.expr);
    const r = check(all);
    expect(r.output).toContain(`SUCCESS: ${all.length} rules found`);
    expect(r.status).toBe(0);
    expect(check(["sum by (reason (rate(node_router_guard_dropped_packets_total[$__rate_interval]))"]).status).not.toBe(0);
  });
});
