// The egress guard's generated ruleset (pure). Loading it into the kernel with the real nft and
// sending packets through it: agent/test/kernel/guard.kernel.test.ts.
import {
  GUARD_MAP_SIZE,
  GUARD_TABLE_REFS,
  guardElements,
  guardElementStatements,
  guardElementUpdate,
  guardRemoval,
  guardRuleset,
  guardShape,
  underlayDefine,
  type GuardInput,
} from "../../src/guard";
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
  it("replaces the project's table in one transaction (created if missing, rules and set flushed, maps created again at their fixed size, refilled)", () => {
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
      "delete map inet node_router_guard nodes4",
      "delete map inet node_router_guard nodes6",
    ]);
    // Created again with a size: the kernel's fixed-size hash, whatever an older release left.
    const script = lines(guardRuleset(input("w1")));
    const declared = script.indexOf("map nodes4 {", script.indexOf("delete map inet node_router_guard nodes6"));
    expect(script.slice(declared, declared + 3)).toEqual(["map nodes4 {", "type ipv4_addr : verdict", `size ${GUARD_MAP_SIZE}`]);
  });

  it("puts every other node's addresses into one hash verdict map per family; not this node's own", () => {
    const l = lines(guardRuleset(input("w1")));
    expect(l).toContain("elements = { 198.51.100.10 : jump to_control_plane, 198.51.100.12 : jump to_node }");
    expect(l).toContain("elements = { 2001:db8::10 : jump to_control_plane, 2001:db8::12 : jump to_node }");
    expect(guardRuleset(input("w1"))).not.toContain("198.51.100.11 :");
  });

  it("hooks output and forward with one map lookup first, then one compare per pod CIDR; misses meet link-local, metadata and WireGuard-reply checks", () => {
    const head = [
      "ip daddr vmap @nodes4",
      "ip daddr 198.18.0.0/16 jump to_pod_cidr",
      "ip6 daddr vmap @nodes6",
      "ip6 daddr 2001:db8:42::/56 jump to_pod_cidr",
      "ip6 daddr fe80::/10 jump to_link_local",
    ];
    const tail = 'ct direction reply ct label 101 oifname != "cilium_wg0" counter name dropped_wireguard_reply drop';
    expect(chain(guardRuleset(input("w1")), "output")).toEqual([
      "type filter hook output priority filter; policy accept;",
      ...head,
      "ip daddr 169.254.169.254 tcp dport != 53 jump to_metadata",
      "ip6 daddr fd00:ec2::254 tcp dport != 53 jump to_metadata",
      tail,
    ]);
    // Forwarded packets come from pods: no cgroup of the node's services to exempt them.
    expect(chain(guardRuleset(input("w1")), "forward")).toEqual([
      "type filter hook forward priority filter; policy accept;",
      ...head,
      "ip daddr 169.254.169.254 tcp dport != 53 counter name dropped_metadata drop",
      "ip6 daddr fd00:ec2::254 tcp dport != 53 counter name dropped_metadata drop",
      tail,
    ]);
    expect(chain(guardRuleset(input("w1")), "prerouting")).toEqual([
      "type filter hook prerouting priority filter; policy accept;",
      'iifname "cilium_wg0" ct state new ct label set 101',
    ]);
  });

  it("on a worker: TCP to a control plane's exempt ports is the only clear path; the mark only on WireGuard's UDP; errors only when related; ND only as ND", () => {
    const script = guardRuleset(input("w1"));
    expect(chain(script, "to_control_plane")).toEqual([
      'oifname "cilium_wg0" accept',
      'oifname { "lo", "cilium_host", "cilium_net" } accept',
      'oifname "lxc*" accept',
      "meta mark & 0xf00 == 0xe00 udp sport 51871 udp dport 51871 accept",
      "ct label 101 ct direction reply counter name dropped_wireguard_reply drop",
      "meta nfproto ipv4 tcp flags syn tcp option maxseg size > 1240 tcp option maxseg size set 1240",
      "meta nfproto ipv6 tcp flags syn tcp option maxseg size > 1220 tcp option maxseg size set 1220",
      "tcp dport @exempt_ports accept",
      "icmp type { destination-unreachable, time-exceeded, parameter-problem } ct state related accept",
      "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } ct state related accept",
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 length <= 40 accept",
      "counter name dropped_node_address drop",
    ]);
    expect(chain(script, "to_node").join("\n")).not.toMatch(/tcp (s|d)port @exempt_ports/);
    expect(
      lines(script)
        .filter((l) => /meta mark & 0xf00 == 0xe00/.test(l))
        .every((l) => l.includes("udp sport 51871 udp dport 51871")),
    ).toBe(true);
    expect(chain(script, "to_pod_cidr").join("\n")).not.toContain("meta mark");
    expect(lines(script)).toContain("elements = { 6443, 2379-2380 }");
  });

  it("on a control plane: only conntrack replies from its exempt ports may leave in the clear, towards any node; the route chain marks exactly those", () => {
    const script = guardRuleset(input("cp"));
    expect(chain(script, "to_node")).toContain("ct direction reply tcp sport @exempt_ports accept");
    expect(lines(script).filter((l) => l.includes("maxseg size set"))).toHaveLength(4); // once in to_node, once in to_control_plane
    // Its SYN-ACKs get the same MSS clamp as the workers' SYNs, just before its reply exemption.
    const toNode = chain(script, "to_node");
    expect(
      toNode.slice(
        toNode.indexOf("ct direction reply tcp sport @exempt_ports accept") - 2,
        toNode.indexOf("ct direction reply tcp sport @exempt_ports accept"),
      ),
    ).toEqual([
      "meta nfproto ipv4 tcp flags syn tcp option maxseg size > 1240 tcp option maxseg size set 1240",
      "meta nfproto ipv6 tcp flags syn tcp option maxseg size > 1220 tcp option maxseg size set 1220",
    ]);
    expect(lines(script).filter((l) => l.includes("sport @exempt_ports accept"))).toEqual([
      "ct direction reply tcp sport @exempt_ports accept",
      "ct direction reply tcp sport @exempt_ports accept",
      "tcp sport @exempt_ports accept",
      "tcp sport @exempt_ports accept",
    ]);
    expect(chain(script, "to_pod_cidr").join("\n")).not.toContain("sport @exempt_ports");
    expect(chain(script, "to_pod_cidr").at(-1)).toBe("counter name dropped_pod_cidr drop");
    // A forged reply mark is wiped first, then set on replies only; a route chain re-routes when the mark changes.
    expect(chain(script, "route_marks")).toEqual(["type route hook output priority mangle; policy accept;", "tcp sport @exempt_ports jump exempt_reply_mark"]);
    expect(chain(script, "exempt_reply_mark")).toEqual(["meta mark set meta mark & 0xfbffffff", "ct direction reply meta mark set meta mark | 0x4000000"]);
    // A worker has no reply rules to match the mark: no route chain costs its packets anything.
    const worker = guardRuleset(input("w1"));
    expect(worker).not.toContain("route_marks");
    expect(worker).not.toContain("exempt_reply_mark");
  });

  it("link-local destinations: local interfaces, ND, related errors and DHCPv6 only", () => {
    expect(chain(guardRuleset(input("w1")), "to_link_local")).toEqual([
      'oifname "cilium_wg0" accept',
      'oifname { "lo", "cilium_host", "cilium_net" } accept',
      'oifname "lxc*" accept',
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 length <= 40 accept",
      "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } ct state related accept",
      "udp sport 546 udp dport 547 accept",
      "counter name dropped_link_local drop",
    ]);
  });

  it("metadata: TCP only from the listed level-1 cgroups; without cgroups, from none; without addresses, no rule", () => {
    expect(chain(guardRuleset(input("w1")), "to_metadata")).toEqual([
      'socket cgroupv2 level 1 { "system.slice" } accept',
      "counter name dropped_metadata drop",
    ]);
    const two = settings({ NODE_ROUTER_METADATA_CGROUPS: "system.slice,init.scope", NODE_ROUTER_METADATA_ADDRESSES: "169.254.169.254" });
    const script = guardRuleset(input("w1", { settings: two }));
    expect(chain(script, "to_metadata")[0]).toBe('socket cgroupv2 level 1 { "system.slice", "init.scope" } accept');
    expect(chain(script, "output").join("\n")).not.toContain("ip6 daddr { fd00");
    expect(chain(guardRuleset(input("w1", { settings: settings({ NODE_ROUTER_METADATA_CGROUPS: "" }) })), "to_metadata")).toEqual([
      "counter name dropped_metadata drop",
    ]);
    expect(chain(guardRuleset(input("w1", { settings: settings({ NODE_ROUTER_METADATA_ADDRESSES: "" }) })), "output").join("\n")).not.toContain("to_metadata");
  });

  it("a netdev egress chain on $UNDERLAY judges frames again without conntrack: WireGuard UDP, exempt TCP, ND; the rest is raw-frame", () => {
    const worker = guardRuleset(input("w1"));
    const underlay = worker.slice(worker.indexOf("table netdev node_router_guard_underlay {}"));
    expect(lines(underlay).slice(0, 3)).toEqual([
      "table netdev node_router_guard_underlay {}",
      "flush table netdev node_router_guard_underlay",
      "table netdev node_router_guard_underlay {",
    ]);
    expect(chain(underlay, "egress")).toEqual([
      "type filter hook egress devices = $UNDERLAY priority filter; policy accept;",
      "ip daddr vmap @nodes4",
      "ip daddr 198.18.0.0/16 counter name dropped_raw_frame drop",
      "ip6 daddr vmap @nodes6",
      "ip6 daddr 2001:db8:42::/56 counter name dropped_raw_frame drop",
      "ip6 daddr fe80::/10 jump to_link_local",
    ]);
    const nd = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 length <= 40 accept";
    expect(chain(underlay, "to_node")).toEqual(["udp sport 51871 udp dport 51871 accept", nd, "counter name dropped_raw_frame drop"]);
    expect(chain(underlay, "to_control_plane")).toEqual([
      "udp sport 51871 udp dport 51871 accept",
      "tcp dport @exempt_ports accept",
      nd,
      "counter name dropped_raw_frame drop",
    ]);
    expect(chain(underlay, "to_link_local")).toEqual([nd, "udp sport 546 udp dport 547 accept", "counter name dropped_raw_frame drop"]);
    expect(underlay).toContain("elements = { 198.51.100.10 : jump to_control_plane, 198.51.100.12 : jump to_node }");
    expect(underlay).not.toMatch(/\bct\b/); // the kernel refuses conntrack in netdev chains
    const cp = guardRuleset(input("cp"));
    expect(chain(cp.slice(cp.indexOf("table netdev")), "to_node")).toContain("tcp sport @exempt_ports accept");
    // The only parameter; the counters of both tables keep their values across reloads (declared, never reset).
    expect(worker.match(/\$[A-Z_]+/g)).toEqual(["$UNDERLAY"]);
    expect(lines(worker).filter((l) => l.startsWith("counter dropped_"))).toEqual([
      "counter dropped_node_address {}",
      "counter dropped_pod_cidr {}",
      "counter dropped_wireguard_reply {}",
      "counter dropped_link_local {}",
      "counter dropped_metadata {}",
      "counter dropped_raw_frame {}",
    ]);
  });

  it("passes the underlay devices in the one form nft 1.0.6 loads for one device and for several", () => {
    expect(underlayDefine(["ens5"])).toBe('UNDERLAY={ { "ens5" } }');
    expect(underlayDefine(["eth0", "eth1"])).toBe('UNDERLAY={ { "eth0", "eth1" } }');
    expect(() => underlayDefine([])).toThrow(/--underlay-devices/);
  });

  it("follows the settings: device, WireGuard mark and port, exempt ports, local interfaces", () => {
    const s = settings({
      NODE_ROUTER_DEVICE: "wg9",
      NODE_ROUTER_WG_MARK: "0x1e00",
      NODE_ROUTER_WG_MASK: "0x1f00",
      NODE_ROUTER_WG_PORT: "51820",
      NODE_ROUTER_EXEMPT_PORTS: "6443",
      NODE_ROUTER_LOCAL_INTERFACES: "lo,veth*",
    });
    const script = guardRuleset(input("w1", { settings: s }));
    expect(chain(script, "to_node").slice(0, 4)).toEqual([
      'oifname "wg9" accept',
      'oifname { "lo" } accept',
      'oifname "veth*" accept',
      "meta mark & 0x1f00 == 0x1e00 udp sport 51820 udp dport 51820 accept",
    ]);
    expect(lines(script)).toContain("elements = { 6443 }");
    expect(lines(script)).toContain("udp sport 51820 udp dport 51820 accept");
  });

  it("without exempt ports there is no route chain and no exempt rule", () => {
    const script = guardRuleset(input("cp", { settings: settings({ NODE_ROUTER_EXEMPT_PORTS: "" }) }));
    expect(script).not.toContain("route_marks");
    expect(script).not.toContain("@exempt_ports");
  });

  it("lists an address once even if a departed node still holds it; an empty family has no elements clause", () => {
    const nodes = [...input("w1").nodes, { name: "gone", addresses: ["198.51.100.12"], controlPlane: true }];
    const script = guardRuleset(input("w1", { nodes, podCidrs: ["198.18.0.0/16"] }));
    expect(script.match(/198\.51\.100\.12 :/g)).toHaveLength(2); // once per table
    expect(script).toContain("198.51.100.12 : jump to_node");
    const v4only = guardRuleset(
      input("w1", { nodes: nodes.map((n) => ({ ...n, addresses: n.addresses.filter((a) => !a.includes(":")) })), podCidrs: ["198.18.0.0/16"] }),
    );
    const map6 = v4only.slice(v4only.indexOf("map nodes6 {", v4only.indexOf("delete map inet node_router_guard nodes6")), v4only.indexOf("chain prerouting"));
    expect(map6).not.toContain("elements");
  });
});

describe("guard updates", () => {
  it("a table change that only adds, removes or re-roles nodes is element changes in one transaction", () => {
    const before = input("w1");
    const after = input("w1", {
      nodes: [
        { name: "cp", addresses: ["198.51.100.10", "2001:db8::10"], controlPlane: true },
        { name: "w2", addresses: ["198.51.100.12", "2001:db8::12"], controlPlane: true },
        { name: "w3", addresses: ["198.51.100.13"], controlPlane: false },
      ],
    });
    expect(guardShape(after)).toBe(guardShape(before));
    const perTable = (table: string) => [
      `delete element ${table} nodes4 { 198.51.100.12 }`,
      `add element ${table} nodes4 { 198.51.100.12 : jump to_control_plane, 198.51.100.13 : jump to_node }`,
      `delete element ${table} nodes6 { 2001:db8::12 }`,
      `add element ${table} nodes6 { 2001:db8::12 : jump to_control_plane }`,
    ];
    expect(guardElementUpdate(guardElements(before), guardElements(after))).toEqual([
      ...perTable("inet node_router_guard"),
      ...perTable("netdev node_router_guard_underlay"),
    ]);
    expect(guardElementUpdate(guardElements(after), guardElements(after))).toBeUndefined();
  });

  it("every element as its own statement: the shape plus these for both tables is the whole ruleset's content", () => {
    const elements = guardElements(input("w1"));
    const inet = guardElementStatements(elements, GUARD_TABLE_REFS[0]);
    expect(inet).toContain("add element inet node_router_guard nodes4 { 198.51.100.10 : jump to_control_plane }");
    expect(inet).toContain("add element inet node_router_guard nodes6 { 2001:db8::10 : jump to_control_plane }");
    expect(inet).toHaveLength(elements[4].size + elements[6].size);
    expect(guardElementStatements(elements, GUARD_TABLE_REFS[1])).toEqual(
      inet.map((l) => l.replace(" inet node_router_guard ", " netdev node_router_guard_underlay ")),
    );
    // The same elements as the one-statement update from nothing, split per element.
    const batched = guardElementUpdate(guardElements({ ...input("w1"), nodes: [] }), elements)!;
    const split = batched.flatMap((l) => {
      const [, head, body] = /^(add element \S+ \S+ nodes[46]) \{ (.*) \}$/.exec(l)!;
      return body.split(", ").map((e) => `${head} { ${e} }`);
    });
    expect([...inet, ...guardElementStatements(elements, GUARD_TABLE_REFS[1])]).toEqual(split);
  });

  it("a change of this node's role or of the settings changes the shape (a whole reload)", () => {
    expect(guardShape(input("cp"))).not.toBe(guardShape(input("w1")));
    expect(guardShape(input("w1", { settings: settings({ NODE_ROUTER_EXEMPT_PORTS: "6443" }) }))).not.toBe(guardShape(input("w1")));
  });
});

describe("guardRemoval", () => {
  it("deletes both tables, harmless when absent", () => {
    expect(guardRemoval()).toBe(
      "table inet node_router_guard {}\ndelete table inet node_router_guard\ntable netdev node_router_guard_underlay {}\ndelete table netdev node_router_guard_underlay\n",
    );
  });
});
