// The guard's drop counters reach /metrics from the kernel's counters, read at scrape time.
import { Metrics } from "../../src/metrics";

describe("Metrics", () => {
  it("exports node_router_guard_dropped_packets_total per reason from the guard source, and the new error kinds at 0", async () => {
    const m = new Metrics();
    let counts = { "node-address": 7, "pod-cidr": 2, "wireguard-reply": 0 };
    m.guardSource = async () => counts;
    let text = await m.registry.metrics();
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="node-address"} 7');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="pod-cidr"} 2');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="wireguard-reply"} 0');
    for (const kind of ["claim", "node-table", "guard"]) expect(text).toContain(`node_router_errors_total{kind="${kind}"} 0`);
    counts = { "node-address": 9, "pod-cidr": 2, "wireguard-reply": 4 };
    text = await m.registry.metrics();
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="node-address"} 9');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="wireguard-reply"} 4');
  });

  it("without a guard the counter has no samples", async () => {
    expect(await new Metrics().registry.metrics()).not.toContain("node_router_guard_dropped_packets_total{");
  });
});
