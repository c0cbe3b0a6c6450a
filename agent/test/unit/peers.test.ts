// Which node-table nodes lack a WireGuard peer, from `wg show <device> allowed-ips` (pure). The
// same read against a real wireguard-go device: lab/test/metrics-contract.test.ts.
import type { NodeTable } from "../../src/nodeTable";
import { parseAllowedIps, parseWgDump, peerMatcher, tableNodesWithoutPeer } from "../../src/peers";

const table: NodeTable = {
  podCidrs: ["198.18.0.0/16"],
  nodes: [
    { name: "cp", role: "control-plane", addresses: ["198.51.100.10"] },
    { name: "w1", role: "worker", addresses: ["198.51.100.11", "2001:db8::11"] },
    { name: "w2", role: "worker", addresses: ["198.51.100.12"] },
  ],
};

describe("parseAllowedIps", () => {
  it("reads every prefix of every peer and skips peers without any", () => {
    const text =
      "GL/fnKXJlT2mddsA3tMIKZGTO64pkQ+LFagxr0Bntzo=\t198.51.100.11/32 198.18.1.0/24 2001:db8::11/128\nsmQmukq2OdWCsWZke7nMSiItWDbgkNHdEHGrlRTxEWc=\t(none)\n";
    expect(parseAllowedIps(text)).toEqual(["198.51.100.11/32", "198.18.1.0/24", "2001:db8::11/128"]);
    expect(parseAllowedIps("")).toEqual([]);
  });
});

describe("tableNodesWithoutPeer", () => {
  const all = ["198.51.100.10/32", "198.18.0.0/24", "198.51.100.11/32", "2001:db8::11/128", "198.18.1.0/24", "198.51.100.12/32"];

  it("is empty when every other node's every address is a peer's allowed IP", () => {
    expect(tableNodesWithoutPeer(table, "w2", all)).toEqual([]);
  });

  it("names a node with no peer, and one whose peer misses one of its addresses", () => {
    expect(
      tableNodesWithoutPeer(
        table,
        "w2",
        all.filter((p) => p !== "198.51.100.10/32"),
      ),
    ).toEqual(["cp"]);
    expect(
      tableNodesWithoutPeer(
        table,
        "w2",
        all.filter((p) => p !== "2001:db8::11/128"),
      ),
    ).toEqual(["w1"]);
  });

  it("never counts the local node, and counts every other node when the device has no peers (or is gone)", () => {
    expect(tableNodesWithoutPeer(table, "w2", [])).toEqual(["cp", "w1"]);
    expect(tableNodesWithoutPeer(table, "not-in-table", [])).toEqual(["cp", "w1", "w2"]);
  });

  it("accepts an address inside a wider allowed prefix, and IPv6 written another way", () => {
    expect(tableNodesWithoutPeer(table, "w2", ["198.51.100.0/24", "2001:db8:0::11/128"])).toEqual([]);
    expect(tableNodesWithoutPeer(table, "w2", ["198.51.100.0/24", "2001:db8::/64"])).toEqual([]);
    expect(tableNodesWithoutPeer(table, "w2", ["198.51.100.0/24", "2001:db8:1::/64"])).toEqual(["w1"]);
  });
});

describe("parseWgDump and peerMatcher (departed nodes held while a peer)", () => {
  const dump = [
    "cFJp8gqUYc0ZL1Qx8sw9hqxHOj7ngKvbyjzexT+ptX8=\tGL/fnKXJlT2mddsA3tMIKZGTO64pkQ+LFagxr0Bntzo=\t51871\toff",
    "smQmukq2OdWCsWZke7nMSiItWDbgkNHdEHGrlRTxEWc=\t(none)\t198.51.100.11:51871\t198.51.100.11/32,198.18.1.0/24\t1700000000\t10\t20\toff",
    "Yq8c0cJb8ZQ0uWqk2lJ0y0l0n0h0m0k0j0i0g0f0e0c=\t(none)\t[2001:DB8::12]:51871\t(none)\t0\t0\t0\toff",
    "ZZ8c0cJb8ZQ0uWqk2lJ0y0l0n0h0m0k0j0i0g0f0e0c=\t(none)\t(none)\t2001:db8::13/128\t0\t0\t0\toff",
    "",
  ].join("\n");

  it("reads every peer's endpoint address and allowed IPs, skipping the device line", () => {
    expect(parseWgDump(dump)).toEqual([
      { endpoint: "198.51.100.11", allowedIps: ["198.51.100.11/32", "198.18.1.0/24"], latestHandshake: 1700000000 },
      { endpoint: "2001:db8::12", allowedIps: [], latestHandshake: 0 },
      { allowedIps: ["2001:db8::13/128"], latestHandshake: 0 },
    ]);
    expect(parseWgDump("")).toEqual([]);
  });

  it("a node is a peer when one of its addresses is an endpoint or lies in allowed IPs", () => {
    const isPeer = peerMatcher(parseWgDump(dump));
    expect(isPeer(["203.0.113.1", "198.51.100.11"])).toBe(true);
    expect(isPeer(["2001:db8::12"])).toBe(true);
    expect(isPeer(["2001:db8::13"])).toBe(true);
    expect(isPeer(["198.18.1.7"])).toBe(true); // inside a wider allowed prefix
    expect(isPeer(["198.51.100.14", "2001:db8::14"])).toBe(false);
    expect(peerMatcher([])(["198.51.100.11"])).toBe(false);
  });
});
