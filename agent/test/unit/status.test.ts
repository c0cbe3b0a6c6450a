// status.ts, pure: each check on facts made to pass and to fail, and the handshake age read from `wg show dump`.
import { computeDesired } from "../../src/desired";
import { guardElements } from "../../src/guard";
import { parseNodeTable } from "../../src/nodeTable";
import { parseWgDump } from "../../src/peers";
import { HANDSHAKE_STALE_SECONDS, renderStatus, statusChecks, tableHash, type StatusFacts } from "../../src/status";
import { settings } from "../fixtures";

const S = settings();
const NOW = 1_800_000_000_000;
const table = parseNodeTable(
  JSON.stringify({
    podCidrs: ["10.244.0.0/16"],
    nodes: [
      { name: "local", role: "worker", addresses: ["203.0.113.1"] },
      { name: "cp", role: "control-plane", addresses: ["203.0.113.2"] },
      { name: "w2", role: "worker", addresses: ["203.0.113.3"] },
    ],
  }),
);
const guardNodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses, controlPlane: n.role === "control-plane" }));
const desired = computeDesired({
  localNodeName: "local",
  nodes: guardNodes.map((n) => ({ ...n, podCidrs: n.name === "local" ? ["10.244.1.0/24"] : [] })),
  deviceUp: true,
  settings: S,
  clusterPodCidrs: table.podCidrs,
});

function healthy(): StatusFacts {
  return {
    nodeName: "local",
    now: NOW,
    configMap: { path: "/cm", table },
    inUse: { path: "/state", table },
    departed: [],
    localPodCidrs: ["10.244.1.0/24"],
    deviceUp: true,
    kernel: { rules: desired.rules, routes: desired.routes },
    guard: guardElements({ localNodeName: "local", nodes: guardNodes, podCidrs: table.podCidrs, settings: S }),
    dropped: { "node-address": 4, "pod-cidr": 0, "wireguard-reply": 0, "link-local": 0, metadata: 1, "raw-frame": 0 },
    peers: [
      { allowedIps: ["203.0.113.2/32"], latestHandshake: NOW / 1000 - 30 },
      { allowedIps: ["203.0.113.3/32", "10.244.3.0/24"], latestHandshake: NOW / 1000 - 100 },
    ],
    lastSuccess: NOW / 1000 - 5,
  };
}
const failing = (f: StatusFacts) =>
  statusChecks(f, S)
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`);

describe("statusChecks", () => {
  it("a healthy node: every check holds", () => {
    const checks = statusChecks(healthy(), S);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.find((c) => c.name === "wireguard-peers")?.detail).toBe("2 nodes, each a peer with a handshake within 180s: cp 30s, w2 100s");
    expect(renderStatus("local", checks)).toMatch(/^node-router status of local: no byte leaves in the clear\n/);
  });

  it("node-table: none in use, the ConfigMap unusable, or not the one in use", () => {
    expect(failing({ ...healthy(), inUse: { path: "/state/node-table.json", error: "ENOENT" } })[0]).toBe(
      "node-table: no table in use: ENOENT (/state/node-table.json)",
    );
    expect(failing({ ...healthy(), configMap: { path: "/cm", error: "nodes: the list is empty" } })).toEqual([
      `node-table: in use ${tableHash(table)}, 3 nodes; the ConfigMap's /cm is not usable: nodes: the list is empty`,
    ]);
    const newer = parseNodeTable(
      JSON.stringify({ podCidrs: table.podCidrs, nodes: [...table.nodes, { name: "w9", role: "worker", addresses: ["203.0.113.9"] }] }),
    );
    expect(failing({ ...healthy(), configMap: { path: "/cm", table: newer } })).toEqual([
      `node-table: in use ${tableHash(table)}, 3 nodes; the ConfigMap holds ${tableHash(newer)} (4 nodes)`,
    ]);
  });

  it("guard: absent, an address missing, judged by the wrong chain, or one the table does not list", () => {
    expect(failing({ ...healthy(), guard: undefined })).toEqual(["guard: the guard's nftables table (inet node_router_guard) is not loaded"]);
    const g = healthy().guard!;
    g[4].delete("203.0.113.3");
    g[4].set("203.0.113.2", "to_node");
    g[4].set("198.51.100.7", "to_node");
    expect(failing({ ...healthy(), guard: g })).toEqual([
      "guard: 1 of 2 addresses missing (203.0.113.3); 1 judged by the wrong chain (203.0.113.2 (to_node, not to_control_plane)); 1 not in the table (198.51.100.7)",
    ]);
  });

  it("rules-and-routes: a missing rule, a route not wanted", () => {
    const f = healthy();
    const [first, ...rules] = f.kernel.rules;
    const extra = { ...f.kernel.routes[0], dst: "198.51.100.0/24" };
    expect(failing({ ...f, kernel: { rules, routes: [...f.kernel.routes, extra] } })).toEqual([
      `rules-and-routes: missing rules: rule ${first.priority}${first.ipproto ? ` ${first.ipproto}` : ""}; routes not wanted: ${extra.type} 198.51.100.0/24 table ${extra.table}`,
    ]);
  });

  it("wireguard-peers: a node without a peer, a stale or missing handshake, peers unreadable", () => {
    const f = healthy();
    expect(failing({ ...f, peers: [(f.peers as { allowedIps: string[] }[])[0]] })).toEqual([
      "wireguard-peers: no peer for w2 (their traffic is dropped, not sent in the clear)",
    ]);
    const stale = [
      { allowedIps: ["203.0.113.2/32"], latestHandshake: NOW / 1000 - HANDSHAKE_STALE_SECONDS - 1 },
      { allowedIps: ["203.0.113.3/32"], latestHandshake: 0 },
    ];
    expect(failing({ ...f, peers: stale })).toEqual([`wireguard-peers: stale: cp (last handshake ${HANDSHAKE_STALE_SECONDS + 1}s ago), w2 (no handshake yet)`]);
    expect(failing({ ...f, peers: { error: "wg: not found" } })).toEqual(["wireguard-peers: cannot read the WireGuard peers: wg: not found"]);
  });

  it("reconcile: never, too long ago (3 resyncs), or the agent unreachable", () => {
    expect(failing({ ...healthy(), lastSuccess: 0 })).toEqual(["reconcile: no successful reconcile yet"]);
    expect(failing({ ...healthy(), lastSuccess: NOW / 1000 - 3 * S.resyncSeconds - 1 })).toEqual([
      `reconcile: last successful reconcile ${3 * S.resyncSeconds + 1}s ago (a resync every ${S.resyncSeconds}s)`,
    ]);
    expect(failing({ ...healthy(), lastSuccess: { error: "ECONNREFUSED" } })).toEqual(["reconcile: unknown: ECONNREFUSED"]);
  });
});

describe("parseWgDump's latest handshake", () => {
  it("reads it per peer; 0 is none yet", () => {
    const dump =
      "priv\tpub\t51871\t0xe00\nK1\t(none)\t203.0.113.2:51871\t203.0.113.2/32\t1800000000\t10\t20\toff\nK2\t(none)\t(none)\t203.0.113.3/32\t0\t0\t0\toff\n";
    expect(parseWgDump(dump).map((p) => p.latestHandshake)).toEqual([1800000000, 0]);
  });
});
