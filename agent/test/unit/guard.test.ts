// The egress guard's generated ruleset (pure). Loading it into the kernel with the real nft and
// sending packets through it: agent/test/kernel/guard.kernel.test.ts.
import { guardElements, guardElementUpdate, guardRuleset, guardShape, type GuardInput } from "../../src/guard";
import { settings } from "../fixtures";

const S = settings();
const input = (local: string, extra: Partial<GuardInput> = {}): GuardInput => ({
  localNodeName: local,
  nodes: [
    { name: "cp", addresses: ["198.51.100.10", "2001:db8::10"], controlPlane: true },
    { name: "w1", addresses: ["198.51.100.11"], controlPlane: false },
    { name: "w2", addresses: ["198.51.100.12", "2001:db8::12"], controlPlane: false },
  ],
  podCidrs: ["198.18.0.0/16", "2001:db8:42::/56"],
  settings: S,
  ...extra,
});
const lines = (script: string) => script.split("\n").map((l) => l.trim());
const chain = (script: string, name: string) => {
  const all = script.split("\n");
  const start = all.findIndex((l) => l.trim() === `chain ${name} {`);
  const end = all.findIndex((l, i) => i > start && l.trim() === "}");
  return all.slice(start + 1, end).map((l) => l.trim());
};

describe("guardRuleset", () => {
  it("replaces the project's table in one transaction (created if missing, rules, set and map elements flushed, refilled)", () => {
    expect(lines(guardRuleset(input("w1"))).slice(1, 14)).toEqual([
      "table inet node_router_guard {}",
      "flush table inet node_router_guard",
      "table inet node_router_guard {",
      "chain to_node {}",
      "chain to_control_plane {}",
      "chain to_pod_cidr {}",
      "set exempt_ports { type inet_service; flags interval; }",
      "map nodes4 { type ipv4_addr : verdict; }",
      "map nodes6 { type ipv6_addr : verdict; }",
      "}",
      "flush set inet node_router_guard exempt_ports",
      "flush map inet node_router_guard nodes4",
      "flush map inet node_router_guard nodes6",
    ]);
  });

  it("puts every other node's addresses into one hash verdict map per family; not this node's own", () => {
    const l = lines(guardRuleset(input("w1")));
    expect(l).toContain("elements = { 198.51.100.10 : jump to_control_plane, 198.51.100.12 : jump to_node }");
    expect(l).toContain("elements = { 2001:db8::10 : jump to_control_plane, 2001:db8::12 : jump to_node }");
    expect(guardRuleset(input("w1"))).not.toContain("198.51.100.11 :");
  });

  it("hooks output and forward with one map lookup first, then one compare per pod CIDR; misses meet only the WireGuard-reply check", () => {
    const entry = ["type filter hook output priority filter; policy accept;", "ip daddr vmap @nodes4", "ip daddr 198.18.0.0/16 jump to_pod_cidr",
      "ip6 daddr vmap @nodes6", "ip6 daddr 2001:db8:42::/56 jump to_pod_cidr",
      'ct label 101 ct direction reply oifname != "cilium_wg0" counter name dropped_wireguard_reply drop'];
    expect(chain(guardRuleset(input("w1")), "output")).toEqual(entry);
    expect(chain(guardRuleset(input("w1")), "forward")).toEqual(entry.map((l) => l.replace("hook output", "hook forward")));
    expect(chain(guardRuleset(input("w1")), "prerouting")).toEqual(["type filter hook prerouting priority filter; policy accept;", 'iifname "cilium_wg0" ct state new ct label set 101']);
  });

  it("on a worker: TCP to a control plane's exempt ports is the only clear path; nothing from its own ports", () => {
    const script = guardRuleset(input("w1"));
    expect(chain(script, "to_control_plane")).toEqual([
      'oifname "cilium_wg0" accept',
      'oifname { "lo", "cilium_host", "cilium_net" } accept',
      'oifname "lxc*" accept',
      "meta mark & 0xf00 == 0xe00 accept",
      "ct label 101 ct direction reply counter name dropped_wireguard_reply drop",
      "tcp dport @exempt_ports accept",
      "icmp type destination-unreachable icmp code frag-needed accept",
      "icmpv6 type { packet-too-big, nd-neighbor-solicit, nd-neighbor-advert } accept",
      "counter name dropped_node_address drop",
    ]);
    expect(chain(script, "to_node")).not.toContain("tcp sport @exempt_ports accept");
    expect(chain(script, "to_node")).not.toContain("tcp dport @exempt_ports accept");
    expect(lines(script)).toContain("elements = { 6443, 2379-2380 }");
  });

  it("on a control plane: replies from its exempt ports may leave in the clear, towards any node", () => {
    const script = guardRuleset(input("cp"));
    expect(chain(script, "to_node")).toContain("tcp sport @exempt_ports accept");
    expect(chain(script, "to_pod_cidr")).not.toContain("tcp sport @exempt_ports accept");
    expect(chain(script, "to_pod_cidr").at(-1)).toBe("counter name dropped_pod_cidr drop");
  });

  it("follows the settings: device, WireGuard mark, exempt ports, local interfaces", () => {
    const s = settings({ NODE_ROUTER_DEVICE: "wg9", NODE_ROUTER_WG_MARK: "0x1e00", NODE_ROUTER_WG_MASK: "0x1f00", NODE_ROUTER_EXEMPT_PORTS: "6443", NODE_ROUTER_LOCAL_INTERFACES: "lo,veth*" });
    const script = guardRuleset(input("w1", { settings: s }));
    expect(chain(script, "to_node").slice(0, 4)).toEqual(['oifname "wg9" accept', 'oifname { "lo" } accept', 'oifname "veth*" accept', "meta mark & 0x1f00 == 0x1e00 accept"]);
    expect(lines(script)).toContain("elements = { 6443 }");
  });

  it("lists an address once even if a departed node still holds it; an empty family has no elements clause", () => {
    const nodes = [...input("w1").nodes, { name: "gone", addresses: ["198.51.100.12"], controlPlane: true }];
    const script = guardRuleset(input("w1", { nodes, podCidrs: ["198.18.0.0/16"] }));
    expect(script.match(/198\.51\.100\.12 :/g)).toHaveLength(1);
    expect(script).toContain("198.51.100.12 : jump to_node");
    const v4only = guardRuleset(input("w1", { nodes: nodes.map((n) => ({ ...n, addresses: n.addresses.filter((a) => !a.includes(":")) })), podCidrs: ["198.18.0.0/16"] }));
    const map6 = v4only.slice(v4only.lastIndexOf("map nodes6 {"), v4only.indexOf("chain prerouting"));
    expect(map6).not.toContain("elements");
  });
});

describe("guard updates", () => {
  it("a table change that only adds, removes or re-roles nodes is element changes in one transaction", () => {
    const before = input("w1");
    const after = input("w1", { nodes: [
      { name: "cp", addresses: ["198.51.100.10", "2001:db8::10"], controlPlane: true },
      { name: "w2", addresses: ["198.51.100.12", "2001:db8::12"], controlPlane: true },
      { name: "w3", addresses: ["198.51.100.13"], controlPlane: false },
    ] });
    expect(guardShape(after)).toBe(guardShape(before));
    expect(guardElementUpdate(guardElements(before), guardElements(after))).toEqual([
      "delete element inet node_router_guard nodes4 { 198.51.100.12 }",
      "add element inet node_router_guard nodes4 { 198.51.100.12 : jump to_control_plane, 198.51.100.13 : jump to_node }",
      "delete element inet node_router_guard nodes6 { 2001:db8::12 }",
      "add element inet node_router_guard nodes6 { 2001:db8::12 : jump to_control_plane }",
    ]);
    expect(guardElementUpdate(guardElements(after), guardElements(after))).toBeUndefined();
  });

  it("a change of this node's role or of the settings changes the shape (a whole reload)", () => {
    expect(guardShape(input("cp"))).not.toBe(guardShape(input("w1")));
    expect(guardShape(input("w1", { settings: settings({ NODE_ROUTER_EXEMPT_PORTS: "6443" }) }))).not.toBe(guardShape(input("w1")));
  });
});
