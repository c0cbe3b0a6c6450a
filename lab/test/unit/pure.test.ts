// The lab's pure parts: planning, flow classification, tcpdump parsing, the API store, the
// WireGuard configuration and the emulated datapath's route lines.
import { ApiStore } from "../../src/apistore";
import { parseTcpdumpLine } from "../../src/capture";
import { forgetPeerLines, peerRouteLines } from "../../src/datapath";
import { leaks, packetOfFlow, planFlows } from "../../src/flows";
import { ciliumNodeObject, nodeObject } from "../../src/objects";
import { isExemptTcp, makeRunId, nodeTableFor, pidOfName, planLab, planNode } from "../../src/plan";
import { parseNodeTable } from "../../../agent/src/nodeTable";
import { generateKeyPair, wgConfig } from "../../src/wgconfig";

const plan = planLab({ id: "nrlabtestx0", nodes: 3 });

describe("plan", () => {
  test("node 0 is the control plane; addresses and pod CIDRs from the documentation ranges", () => {
    expect(plan.nodes.map((n) => [n.name, n.underlayIp, n.podCidr, n.podIp, n.controlPlane])).toEqual([
      ["node-0-cp", "198.51.100.10", "198.18.0.0/24", "198.18.0.10", true],
      ["node-1", "198.51.100.11", "198.18.1.0/24", "198.18.1.10", false],
      ["node-2", "198.51.100.12", "198.18.2.0/24", "198.18.2.10", false],
    ]);
    expect(plan.apiServer).toEqual({ host: "198.51.100.10", port: 6443 });
  });

  test("bad node count and mark are rejected with the flag named", () => {
    expect(() => planLab({ id: "x", nodes: 1 })).toThrow(/--nodes 1/);
    expect(() => planLab({ id: "x", nodes: 3, wgMark: 0x100 })).toThrow(/--mark 0x100/);
    expect(() => planNode("x", 200)).toThrow(/out of range/);
  });

  test("run ids carry the owner pid for leftover cleanup", () => {
    const id = makeRunId(4242, 7);
    expect(pidOfName(`${id}-n0`)).toBe(4242);
    expect(pidOfName("other-n0")).toBeUndefined();
  });

  test("exemption: only TCP to or from a control-plane exempt port", () => {
    const cp = "198.51.100.10";
    expect(isExemptTcp(plan, { proto: "tcp", src: "198.51.100.11", dst: cp, dport: 6443 })).toBe(true);
    expect(isExemptTcp(plan, { proto: "tcp", src: cp, dst: "198.51.100.11", sport: 2380 })).toBe(true);
    expect(isExemptTcp(plan, { proto: "udp", src: "198.51.100.11", dst: cp, dport: 6443 })).toBe(false);
    expect(isExemptTcp(plan, { proto: "tcp", src: "198.51.100.11", dst: "198.51.100.12", dport: 6443 })).toBe(false);
    expect(isExemptTcp(plan, { proto: "tcp", src: "198.51.100.11", dst: cp, dport: 10250 })).toBe(false);
  });
});

describe("flows", () => {
  const flows = planFlows(plan.nodes);

  test("every class per ordered pair where it applies", () => {
    const count = (cls: string) => flows.filter((f) => f.cls === cls).length;
    expect([count("pod->remote-pod"), count("node->remote-node"), count("worker->cp:6443"), count("cp->worker:10250"), count("worker->worker:6443")]).toEqual([
      6, 6, 2, 2, 2,
    ]);
    expect(
      flows
        .filter((f) => f.exempt)
        .map((f) => f.cls)
        .sort(),
    ).toEqual(["worker->cp:2379", "worker->cp:2379", "worker->cp:6443", "worker->cp:6443"]);
  });

  test("packets are attributed by addresses, server port and (when known) client port", () => {
    const f = flows.find((x) => x.cls === "node->remote-node" && x.from.index === 1 && x.to.index === 2)!;
    const fwd = { t: 0, iface: "n1", proto: "tcp" as const, src: f.srcIp, dst: f.dstIp, sport: 40000, dport: 5000, line: "" };
    const back = { ...fwd, src: f.dstIp, dst: f.srcIp, sport: 5000, dport: 40000 };
    expect([packetOfFlow(fwd, f), packetOfFlow(back, f), packetOfFlow(fwd, f, 40000), packetOfFlow(fwd, f, 40001)]).toEqual([true, true, true, false]);
    expect(leaks([fwd, { ...fwd, dst: "198.51.100.10", dport: 6443 }], plan.nodes)).toEqual([fwd]);
  });
});

describe("tcpdump lines", () => {
  test("bridged TCP, UDP and ICMP lines parse; others do not", () => {
    expect(parseTcpdumpLine("1795410947.722187 n0    P   IP 198.51.100.10.56030 > 198.51.100.11.5000: Flags [S], seq 1, length 0")).toMatchObject({
      iface: "n0",
      proto: "tcp",
      src: "198.51.100.10",
      sport: 56030,
      dst: "198.51.100.11",
      dport: 5000,
    });
    expect(parseTcpdumpLine("1.5 n2 In IP 198.51.100.12.51871 > 198.51.100.10.51871: UDP, length 148")).toMatchObject({ proto: "udp", sport: 51871 });
    expect(parseTcpdumpLine("1.5 n2 P IP 198.51.100.12 > 198.51.100.10: ICMP echo request, id 1, seq 1, length 64")).toMatchObject({
      proto: "icmp",
      sport: undefined,
    });
    expect(parseTcpdumpLine("1.5 n2 P ARP, Request who-has 198.51.100.10")).toBeUndefined();
  });
});

describe("API store", () => {
  test("list, watch history, and 410 for resource versions older than the history", () => {
    const store = new ApiStore(100, [{ kind: "nodes", object: nodeObject(plan.nodes[0]) }]);
    expect(store.list("nodes")[0].metadata.resourceVersion).toBe("100");
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.object.metadata.name}`));
    store.put("nodes", nodeObject(plan.nodes[1]));
    store.put("nodes", nodeObject(plan.nodes[1]));
    store.put("ciliumnodes", ciliumNodeObject(plan.nodes[1], "k"));
    store.delete("nodes", "node-0-cp");
    expect(seen).toEqual(["ADDED node-1", "MODIFIED node-1", "ADDED node-1", "DELETED node-0-cp"]);
    expect(store.since("nodes", 101)).toHaveLength(2);
    expect(store.since("nodes", 99)).toBe("gone");
    expect(() => store.put("nodes", { metadata: {} } as never)).toThrow(/metadata.name/);
  });
});

describe("WireGuard and datapath", () => {
  test("config: Cilium's port and mark, one peer per remote node with node IP and pod CIDR", () => {
    const keys = generateKeyPair();
    expect(keys.privateKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const text = wgConfig({ privateKey: keys.privateKey, fwmark: 0x1e00, peers: [{ node: plan.nodes[1], publicKey: "PUB" }] });
    expect(text).toContain("ListenPort = 51871\nFwMark = 0x1e00");
    expect(text).toContain("Endpoint = 198.51.100.11:51871\nAllowedIPs = 198.51.100.11/32, 198.18.1.0/24");
  });

  test("pod routes: native route in main, device route with a blackhole behind it in the pod table", () => {
    expect(peerRouteLines([plan.nodes[2]], true)).toEqual([
      "route replace 198.18.2.0/24 via 198.51.100.12 dev eth0",
      "route replace blackhole 198.18.2.0/24 table 200 metric 10000",
      "route replace 198.18.2.0/24 dev cilium_wg0 table 200 metric 100",
    ]);
    expect(peerRouteLines([plan.nodes[2]], false)).toHaveLength(2);
    expect(forgetPeerLines([plan.nodes[2]])[0]).toMatch(/^route del 198.18.2.0\/24 via/);
  });
});

describe("nodeTableFor", () => {
  it("is the table the program would publish, in the agent's format (its own parser accepts it)", () => {
    const doc = nodeTableFor(plan.nodes);
    expect(parseNodeTable(JSON.stringify(doc))).toEqual({
      podCidrs: ["198.18.0.0/16"],
      nodes: [
        { name: "node-0-cp", role: "control-plane", addresses: ["198.51.100.10"] },
        { name: "node-1", role: "worker", addresses: ["198.51.100.11"] },
        { name: "node-2", role: "worker", addresses: ["198.51.100.12"] },
      ],
    });
    for (const n of plan.nodes) expect(n.podCidr.startsWith("198.18.")).toBe(true);
  });
});
