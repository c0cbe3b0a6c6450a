import { computeDesired } from "../../src/desired";
import type { Route, Rule } from "../../src/model";
import { parseClusterNodes } from "../../src/nodes";
import { CP_LABEL, node, settings, type NodeSpec } from "../fixtures";

const S = settings();
const STEER = S.steeringTable;
const CP = S.controlPlaneTable;

function desiredFor(local: string, specs: NodeSpec[], deviceUp = true) {
  const { nodes } = parseClusterNodes(specs.map(node), [], S.controlPlaneSelector);
  return computeDesired({ localNodeName: local, nodes, deviceUp, settings: S });
}

/** Compact text forms keep the expectations readable. */
const ruleText = (r: Rule) =>
  `v${r.family} ${r.priority} ${r.fwmark !== undefined ? `fwmark 0x${r.fwmark.toString(16)}/0x${r.fwmask!.toString(16)} ` : ""}${r.ipproto ? `${r.ipproto} ` : ""}${r.sport ? `sport ${r.sport.start}-${r.sport.end} ` : ""}${r.dport ? `dport ${r.dport.start}-${r.dport.end} ` : ""}lookup ${r.table}`;
const routeText = (r: Route) => `${r.table} ${r.type} ${r.dst}${r.src ? ` src ${r.src}` : ""}`;
const unicast = (routes: Route[]) =>
  routes
    .filter((r) => r.type === "unicast")
    .map(routeText)
    .sort();

const worker = (name: string, i: number, extra: Partial<NodeSpec> = {}): NodeSpec => ({
  name,
  internal: [`198.51.100.${i}`, `2001:db8::${i}`],
  podCidrs: [`198.18.${i}.0/24`, `2001:db8:${i}::/64`],
  ...extra,
});
const controlPlane = (name: string, i: number) => worker(name, i, { labels: CP_LABEL });

describe("computeDesired", () => {
  it("worker, dual stack: constant rule layout, worker addresses and all pod CIDRs steered, control-plane addresses in their own table", () => {
    const d = desiredFor("local", [worker("local", 1), worker("w2", 2), controlPlane("cp4", 4)]);
    const v4Rules = [
      "v4 1000 fwmark 0xe00/0xf00 udp sport 51871-51871 dport 51871-51871 lookup main",
      `v4 1030 lookup ${STEER}`,
      "v4 1040 tcp dport 6443-6443 lookup main",
      "v4 1041 tcp dport 2379-2380 lookup main",
      `v4 1060 lookup ${CP}`,
    ];
    expect(d.rules.map(ruleText)).toEqual([...v4Rules, ...v4Rules.map((r) => r.replace("v4", "v6"))]);
    expect(unicast(d.routes)).toEqual(
      [
        `${STEER} unicast 198.18.2.0/24 src 198.51.100.1`,
        `${STEER} unicast 198.18.4.0/24 src 198.51.100.1`,
        `${STEER} unicast 198.51.100.2/32 src 198.51.100.1`,
        `${STEER} unicast 2001:db8:2::/64 src 2001:db8::1`,
        `${STEER} unicast 2001:db8:4::/64 src 2001:db8::1`,
        `${STEER} unicast 2001:db8::2/128 src 2001:db8::1`,
        `${CP} unicast 198.51.100.4/32 src 198.51.100.1`,
        `${CP} unicast 2001:db8::4/128 src 2001:db8::1`,
      ].sort(),
    );
    expect(d.remoteNodesCovered).toBe(2);
    expect(d.problems).toEqual([]);
  });

  it("backs every device route with a blackhole of higher metric for the same prefix (fail closed)", () => {
    const d = desiredFor("local", [worker("local", 1), worker("w2", 2)]);
    const devices = d.routes.filter((r) => r.type === "unicast");
    const holes = d.routes.filter((r) => r.type === "blackhole");
    expect(holes.map((r) => `${r.table} ${r.dst}`).sort()).toEqual(devices.map((r) => `${r.table} ${r.dst}`).sort());
    expect(Math.min(...holes.map((r) => r.metric))).toBeGreaterThan(Math.max(...devices.map((r) => r.metric)));
  });

  it("device absent or down: only the blackholes remain", () => {
    const d = desiredFor("local", [worker("local", 1), worker("w2", 2)], false);
    expect(d.routes.length).toBeGreaterThan(0);
    expect(d.routes.every((r) => r.type === "blackhole")).toBe(true);
  });

  it("control-plane local node (label with empty value) also exempts replies from the exempt ports", () => {
    const d = desiredFor("cp1", [controlPlane("cp1", 1), worker("w2", 2)]);
    expect(d.rules.filter((r) => r.family === 4).map(ruleText)).toEqual([
      "v4 1000 fwmark 0xe00/0xf00 udp sport 51871-51871 dport 51871-51871 lookup main",
      "v4 1010 fwmark 0x4000000/0x4000000 tcp sport 6443-6443 lookup main",
      "v4 1011 fwmark 0x4000000/0x4000000 tcp sport 2379-2380 lookup main",
      `v4 1030 lookup ${STEER}`,
      "v4 1040 tcp dport 6443-6443 lookup main",
      "v4 1041 tcp dport 2379-2380 lookup main",
      `v4 1060 lookup ${CP}`,
    ]);
  });

  it("a mark alone or a source port alone never reaches main: WireGuard's rule needs UDP from and to its port, a reply rule needs the guard's reply mark", () => {
    const s = settings({ NODE_ROUTER_WG_PORT: "51820", NODE_ROUTER_EXEMPT_REPLY_MARK: "0x8000000", NODE_ROUTER_EXEMPT_PORTS: "6443" });
    const { nodes } = parseClusterNodes([controlPlane("cp1", 1), worker("w2", 2)].map(node), [], s.controlPlaneSelector);
    const toMain = computeDesired({ localNodeName: "cp1", nodes, deviceUp: true, settings: s }).rules.filter((r) => r.family === 4 && r.table === "main");
    expect(toMain.map(ruleText)).toEqual([
      "v4 1000 fwmark 0xe00/0xf00 udp sport 51820-51820 dport 51820-51820 lookup main",
      "v4 1010 fwmark 0x8000000/0x8000000 tcp sport 6443-6443 lookup main",
      "v4 1040 tcp dport 6443-6443 lookup main",
    ]);
    expect(toMain.filter((r) => r.fwmark !== undefined || r.sport).every((r) => r.ipproto && r.fwmark !== undefined && r.sport)).toBe(true);
  });

  it("IPv6-only node: only IPv6 rules and routes, IPv4 peers' prefixes ignored", () => {
    const d = desiredFor("local", [{ name: "local", internal: ["2001:db8::1"], podCidrs: ["2001:db8:1::/64"] }, worker("w2", 2)]);
    expect(new Set([...d.rules, ...d.routes].map((x) => x.family))).toEqual(new Set([6]));
    expect(unicast(d.routes)).toEqual([`${STEER} unicast 2001:db8:2::/64 src 2001:db8::1`, `${STEER} unicast 2001:db8::2/128 src 2001:db8::1`]);
  });

  it("never steers the local node's own addresses or pod CIDRs, even when another node claims them", () => {
    const d = desiredFor("local", [worker("local", 1), { name: "thief", internal: ["198.51.100.1", "198.51.100.5"], podCidrs: ["198.18.1.128/25"] }]);
    expect(unicast(d.routes).filter((r) => r.includes("."))).toEqual([`${STEER} unicast 198.51.100.5/32 src 198.51.100.1`]);
    expect(d.problems).toEqual([expect.objectContaining({ object: "Node/thief", kind: "overlap" })]);
  });

  it("an address claimed by a control-plane node and a worker stays encrypted (steering table)", () => {
    const d = desiredFor("local", [worker("local", 1), controlPlane("cp2", 2), { name: "w9", internal: ["198.51.100.2"] }]);
    const v4 = unicast(d.routes).filter((r) => r.includes("198.51.100.2/"));
    expect(v4).toEqual([`${STEER} unicast 198.51.100.2/32 src 198.51.100.1`]);
  });

  it("local node missing: steers everything it knows, without source hint or reply exemptions, and says so", () => {
    const d = desiredFor("gone", [worker("w2", 2), controlPlane("cp3", 3)]);
    expect(d.problems).toEqual([expect.objectContaining({ object: "Node/gone", kind: "local-node" })]);
    expect(d.rules.some((r) => r.ipproto === "tcp" && r.sport)).toBe(false);
    expect(d.routes.some((r) => r.src)).toBe(false);
    expect(unicast(d.routes)).toContain(`${CP} unicast 198.51.100.3/32`);
  });

  it("reports a control-plane address hidden inside a steered pod CIDR (its exemption would not apply)", () => {
    const d = desiredFor("local", [
      worker("local", 1),
      { name: "cp", internal: ["198.18.7.5"], labels: CP_LABEL },
      { name: "w", internal: ["198.51.100.7"], podCidrs: ["198.18.7.0/24"] },
    ]);
    expect(d.problems).toEqual([expect.objectContaining({ kind: "overlap", message: expect.stringMatching(/198.18.7.5\/32 lies inside a steered pod CIDR/) })]);
  });

  it.each([10, 1000])("keeps the rule count constant (%i remote nodes)", (n) => {
    const specs = [
      worker("local", 1),
      ...Array.from({ length: n }, (_, i) => ({ name: `n${i}`, internal: [`198.19.${i >> 8}.${i & 255}`], podCidrs: [`10.${i >> 8}.${i & 255}.0/24`] })),
    ];
    const d = desiredFor("local", specs);
    expect(d.rules).toHaveLength(10);
    expect(d.remoteNodesCovered).toBe(n);
  });

  it("steers adjacent prefixes one route each (no aggregation) and deduplicates repeats", () => {
    const d = desiredFor("local", [
      worker("local", 1),
      { name: "a", internal: ["198.51.100.10"], podCidrs: ["198.18.10.0/24"] },
      { name: "b", internal: ["198.51.100.11"], podCidrs: ["198.18.11.0/24", "198.18.10.0/24"] },
    ]);
    expect(unicast(d.routes).filter((r) => r.includes("."))).toEqual([
      `${STEER} unicast 198.18.10.0/24 src 198.51.100.1`,
      `${STEER} unicast 198.18.11.0/24 src 198.51.100.1`,
      `${STEER} unicast 198.51.100.10/32 src 198.51.100.1`,
      `${STEER} unicast 198.51.100.11/32 src 198.51.100.1`,
    ]);
  });
});

describe("computeDesired with a node table (cluster pod CIDRs)", () => {
  const cluster = ["198.18.0.0/16", "2001:db8::/32"];
  const tableDesired = (local: string, specs: NodeSpec[], deviceUp = true) => {
    const { nodes } = parseClusterNodes(specs.map(node), [], S.controlPlaneSelector);
    return computeDesired({ localNodeName: local, nodes, deviceUp, settings: S, clusterPodCidrs: cluster });
  };

  it("steers the whole pod CIDRs (with blackholes), throws this node's own back to main, and no per-node pod CIDR", () => {
    const d = tableDesired("local", [worker("local", 1), worker("w2", 2), controlPlane("cp4", 4)]);
    expect(
      d.routes
        .filter((r) => r.family === 4)
        .map(routeText)
        .sort(),
    ).toEqual(
      [
        `${STEER} blackhole 198.18.0.0/16`,
        `${STEER} blackhole 198.51.100.2/32`,
        `${STEER} throw 198.18.1.0/24`,
        `${STEER} unicast 198.18.0.0/16 src 198.51.100.1`,
        `${STEER} unicast 198.51.100.2/32 src 198.51.100.1`,
        `${CP} blackhole 198.51.100.4/32`,
        `${CP} unicast 198.51.100.4/32 src 198.51.100.1`,
      ].sort(),
    );
    expect(d.remoteNodesCovered).toBe(2);
  });

  it("keeps the whole-CIDR blackhole and the throw when the device is down (fail closed for remote pods only)", () => {
    const d = tableDesired("local", [worker("local", 1), worker("w2", 2)], false);
    expect(
      d.routes
        .filter((r) => r.family === 4)
        .map(routeText)
        .sort(),
    ).toEqual([`${STEER} blackhole 198.18.0.0/16`, `${STEER} blackhole 198.51.100.2/32`, `${STEER} throw 198.18.1.0/24`]);
  });
});
