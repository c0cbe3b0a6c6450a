// The local API proxy's configuration as the agent renders it from a node table: the control
// planes' first IPv4 addresses, in table order; none when the table lists no control plane.
import { parseNodeTable } from "../../src/nodeTable";
import { API_SERVER_PORT, proxyBackends, proxyConfigOf, renderProxyConfig } from "../../src/apiserverProxy";

const table = (nodes: { name: string; role: string; addresses: string[] }[]) => parseNodeTable(JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes }));

describe("the proxy's backends from the node table", () => {
  it("every control plane by its first IPv4 address (the advertise address), workers left out", () => {
    const t = table([
      { name: "cp-0", role: "control-plane", addresses: ["203.0.113.10", "10.0.1.10"] },
      { name: "w-0", role: "worker", addresses: ["203.0.113.20"] },
      { name: "cp-1", role: "control-plane", addresses: ["2001:db8::11", "198.51.100.11"] },
      { name: "cp-v6", role: "control-plane", addresses: ["2001:db8::12"] },
    ]);
    expect(proxyBackends(t)).toEqual([
      { name: "cp-0", ip: "203.0.113.10" },
      { name: "cp-1", ip: "198.51.100.11" },
    ]);
    const lines =
      proxyConfigOf(t)
        ?.split("\n")
        .filter((l) => l.startsWith("  server ")) ?? [];
    expect(lines).toEqual([`  server cp-0 203.0.113.10:${API_SERVER_PORT}`, `  server cp-1 198.51.100.11:${API_SERVER_PORT}`]);
  });

  it("a table without a control plane gives no configuration (the proxy keeps what it has)", () => {
    expect(proxyConfigOf(table([{ name: "w-0", role: "worker", addresses: ["203.0.113.20"] }]))).toBeUndefined();
  });

  it("the same control planes give the same bytes (the host reloads only on a change)", () => {
    const a = renderProxyConfig([{ name: "cp-0", ip: "203.0.113.10" }]);
    expect(renderProxyConfig([{ name: "cp-0", ip: "203.0.113.10" }])).toBe(a);
    expect(renderProxyConfig([{ name: "cp-0", ip: "203.0.113.11" }])).not.toBe(a);
  });
});
