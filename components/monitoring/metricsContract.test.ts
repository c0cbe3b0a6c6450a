// What the rules ask of /metrics, read from PromQL, and the check against a scrape (pure). The
// same check on a real agent's scrape: lab/test/metrics-contract.test.ts.
import { indexScrape, missingFromScrape, usesOf, withoutGrafanaVariables } from "./metricsContract";

const scrape = indexScrape(
  [
    "# HELP node_router_errors_total Errors by kind",
    "# TYPE node_router_errors_total counter",
    'node_router_errors_total{kind="apply"} 0',
    'node_router_errors_total{kind="claim"} 2',
    "node_router_device_up 1",
    'node_router_reconcile_duration_seconds_bucket{le="0.005",kernel_read="true"} 3',
  ].join("\n"),
);

describe("usesOf", () => {
  it("finds metric names, matchers with their literal values, and labels grouped or templated on", () => {
    expect(
      usesOf('sum by (instance, kind) (increase(node_router_errors_total{kind!~"input|claim"}[5m])) > 0', "r", [
        "{{ $labels.kind }} on {{ $labels.instance }}",
      ]),
    ).toEqual([
      { where: "r", metric: "node_router_errors_total" },
      { where: "r", metric: "node_router_errors_total", label: "kind", values: ["input", "claim"] },
      { where: "r", metric: "node_router_errors_total", label: "kind" },
    ]);
    expect(usesOf('x{a=~"b.*"}', "r")).toEqual([
      { where: "r", metric: "x" },
      { where: "r", metric: "x", label: "a", values: undefined },
    ]);
  });

  it("refuses what does not parse and selectors without a metric name", () => {
    expect(() => usesOf("sum by (a (x)", "r")).toThrow(/r: "sum by \(a \(x\)" does not parse as PromQL/);
    expect(() => usesOf('{__name__="x"}', "r")).toThrow(/without a metric name/);
  });

  it("reads Grafana queries once their variables are replaced", () => {
    expect(usesOf(withoutGrafanaVariables('rate(x{instance=~"$instance"}[$__rate_interval])'), "p").map((u) => u.metric)).toEqual(["x", "x"]);
  });
});

describe("missingFromScrape", () => {
  it("passes what the scrape has, target labels and Prometheus' own series included", () => {
    const uses = [
      ...usesOf('increase(node_router_errors_total{kind="claim",job="node-router"}[15m]) > 0 and on (instance) node_router_device_up', "a"),
      ...usesOf("histogram_quantile(0.9, sum by (le, kernel_read) (rate(node_router_reconcile_duration_seconds_bucket[5m])))", "b"),
      ...usesOf('up{job="node-router"}', "c"),
    ];
    expect(missingFromScrape(uses, scrape)).toEqual([]);
  });

  it("names a renamed metric, a label the metric lacks and a label value it never has", () => {
    expect(missingFromScrape(usesOf("node_router_device_is_up == 0", "r1"), scrape)).toEqual([
      "r1: no series node_router_device_is_up in the agent's /metrics",
    ]);
    expect(missingFromScrape(usesOf("sum by (reason) (node_router_errors_total)", "r2"), scrape)).toEqual([
      "r2: label reason is on none of node_router_errors_total in the agent's /metrics",
    ]);
    expect(missingFromScrape(usesOf('node_router_errors_total{kind=~"apply|wireguard"}', "r3"), scrape)).toEqual([
      'r3: kind="wireguard" never appears on node_router_errors_total in the agent\'s /metrics',
    ]);
  });
});
