// The guard's drop counters reach /metrics from the kernel's counters, read at scrape time.
import { Metrics } from "../../src/metrics";

describe("Metrics", () => {
  it("exports node_router_guard_dropped_packets_total per reason from the guard source, and the new error kinds at 0", async () => {
    const m = new Metrics();
    const zero = { "link-local": 0, metadata: 0, "raw-frame": 0 };
    let counts = { "node-address": 7, "pod-cidr": 2, "wireguard-reply": 0, ...zero, "raw-frame": 3 };
    m.guardSource = async () => counts;
    let text = await m.registry.metrics();
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="node-address"} 7');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="pod-cidr"} 2');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="wireguard-reply"} 0');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="raw-frame"} 3');
    for (const reason of ["link-local", "metadata"]) expect(text).toContain(`node_router_guard_dropped_packets_total{reason="${reason}"} 0`);
    for (const kind of ["claim", "node-table", "guard"]) expect(text).toContain(`node_router_errors_total{kind="${kind}"} 0`);
    counts = { "node-address": 9, "pod-cidr": 2, "wireguard-reply": 4, ...zero, metadata: 5 };
    text = await m.registry.metrics();
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="node-address"} 9');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="wireguard-reply"} 4');
    expect(text).toContain('node_router_guard_dropped_packets_total{reason="metadata"} 5');
  });

  it("without a guard the counter has no samples", async () => {
    expect(await new Metrics().registry.metrics()).not.toContain("node_router_guard_dropped_packets_total{");
  });
});

describe("Metrics: node-table series", () => {
  const table = {
    podCidrs: ["198.18.0.0/16"],
    nodes: [
      { name: "cp", role: "control-plane" as const, addresses: ["198.51.100.10"] },
      { name: "w1", role: "worker" as const, addresses: ["198.51.100.11"] },
      { name: "w2", role: "worker" as const, addresses: ["198.51.100.12"] },
    ],
  };

  it("exports the table's size and its nodes without a WireGuard peer, read at scrape time", async () => {
    const m = new Metrics();
    let allowed = ["198.51.100.10/32", "198.51.100.11/32"];
    const told: string[][] = [];
    m.watchTable({
      localNodeName: "w2",
      table: () => table,
      allowedIps: async () => allowed,
      peers: async () => [],
      onWithoutPeer: (names) => told.push(names),
    });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^node_router_table_nodes 3$/m);
    expect(text).toMatch(/^node_router_table_nodes_without_peer 0$/m);
    allowed = ["198.51.100.11/32"];
    text = await m.registry.metrics();
    expect(text).toMatch(/^node_router_table_nodes_without_peer 1$/m);
    expect(told).toEqual([[], ["cp"]]);
  });

  it("exports the peers' handshakes per node: how many table nodes have none within 180 s, and the oldest", async () => {
    const m = new Metrics();
    const now = Date.now() / 1000;
    let peers = [
      { allowedIps: ["198.51.100.10/32"], latestHandshake: now - 30 },
      { allowedIps: ["198.51.100.11/32"], latestHandshake: now - 90 },
    ];
    m.watchTable({ localNodeName: "w2", table: () => table, allowedIps: async () => peers.flatMap((p) => p.allowedIps), peers: async () => peers });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^node_router_table_nodes_stale_handshake 0$/m);
    expect(Number(/^node_router_peer_handshake_age_max_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(90);
    peers = [
      { allowedIps: ["198.51.100.10/32"], latestHandshake: now - 400 },
      { allowedIps: ["198.51.100.11/32"], latestHandshake: 0 },
    ];
    text = await m.registry.metrics();
    expect(text).toMatch(/^node_router_table_nodes_stale_handshake 2$/m);
    expect(Number(/^node_router_peer_handshake_age_max_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(400);
    // No peer at all for a node: the without_peer series counts it, not this one.
    peers = [peers[0]];
    expect(await m.registry.metrics()).toMatch(/^node_router_table_nodes_stale_handshake 1$/m);
  });

  it('reports NaN and counts errors{kind="wireguard"} when the device cannot be read', async () => {
    const m = new Metrics();
    const reasons: string[] = [];
    m.watchTable({
      localNodeName: "w2",
      table: () => table,
      allowedIps: async () => {
        throw new Error("wg: not found");
      },
      peers: async () => {
        throw new Error("wg: not found");
      },
      onReadError: (e) => reasons.push(e),
    });
    const text = await m.registry.metrics();
    // prom-client writes NaN as "Nan", which Prometheus parses (case-insensitively) as NaN.
    expect(text).toMatch(/^node_router_table_nodes_without_peer nan$/im);
    // Series are written concurrently: the error counted during one scrape shows in the next.
    expect(await m.registry.metrics()).toMatch(/^node_router_errors_total\{kind="wireguard"\} 1$/m);
    expect(reasons).toEqual(["wg: not found", "wg: not found"]);
  });

  it("has no node-table series without a table", async () => {
    const text = await new Metrics().registry.metrics();
    expect(text).not.toContain("node_router_table_nodes");
    expect(text).toMatch(/^node_router_errors_total\{kind="wireguard"\} 0$/m);
  });
});
