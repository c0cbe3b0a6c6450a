// The GCP renderer of the cluster's firewall intents, on its own: one rule per (role, intent),
// aimed at the role's network tag, admitting exactly the intent's sources.
import { computeFirewallIntents, intentsFor } from "../core/firewallIntents";
import { expandPools, isControlPlane } from "../core/nodes";
import { renderGcpFirewall, roleTag } from "./firewallRules";

const nodes = [
  ...expandPools("c", "gcp", [{ name: "cp", role: "control-plane", count: 1, machineType: "m", zone: "z", diskSizeGb: 50 }]),
  ...expandPools("c", "gcp", [{ name: "w", role: "worker", count: 2, machineType: "m", zone: "z", diskSizeGb: 50 }]),
];
const addressOf = Object.fromEntries(nodes.map((n, i) => [n.name, `198.51.100.${i + 1}`]));
const intents = computeFirewallIntents(nodes, ["203.0.113.0/24"]);
const render = (role: "control-plane" | "worker") =>
  Object.fromEntries(
    renderGcpFirewall(
      "c",
      role,
      intentsFor(
        intents,
        nodes.filter((n) => n.role === role).map((n) => n.name),
      ),
      addressOf,
      (a) => `${a}/32`,
    ).map((r) => [r.key, r]),
  );

describe("renderGcpFirewall", () => {
  it("control planes: WireGuard and 6443 from every node's /32, etcd from control planes', the admin range, ICMP", () => {
    const rules = render("control-plane");
    expect(Object.keys(rules).sort()).toEqual([
      "control-plane-admin-apiserver",
      "control-plane-apiserver",
      "control-plane-etcd",
      "control-plane-pmtu",
      "control-plane-wireguard",
    ]);
    expect(rules["control-plane-wireguard"]).toMatchObject({
      allow: { protocol: "udp", ports: ["51871"] },
      sourceRanges: ["198.51.100.1/32", "198.51.100.2/32", "198.51.100.3/32"],
      targetTag: "c-control-plane",
    });
    expect(rules["control-plane-etcd"]).toMatchObject({ allow: { protocol: "tcp", ports: ["2379-2380"] }, sourceRanges: ["198.51.100.1/32"] });
    expect(rules["control-plane-admin-apiserver"]).toMatchObject({ allow: { protocol: "tcp", ports: ["6443"] }, sourceRanges: ["203.0.113.0/24"] });
  });

  it("ICMP as a whole (GCP cannot filter its type), from anywhere, for path-MTU discovery", () => {
    expect(render("worker")["worker-pmtu"]).toMatchObject({ allow: { protocol: "icmp" }, sourceRanges: ["0.0.0.0/0"], targetTag: "c-worker" });
    expect(render("worker")["worker-pmtu"].allow.ports).toBeUndefined();
  });

  it("workers: WireGuard and ICMP only", () => {
    expect(Object.keys(render("worker")).sort()).toEqual(["worker-pmtu", "worker-wireguard"]);
  });

  it("a role's tag is what its instances carry", () => {
    expect(nodes.filter(isControlPlane).map((n) => roleTag("c", n.role))).toEqual(["c-control-plane"]);
  });
});

describe("renderGcpFirewall with WireGuard from anywhere", () => {
  const anywhere = computeFirewallIntents(nodes, ["203.0.113.0/24"], "anywhere");
  const rules = (role: "control-plane" | "worker") =>
    Object.fromEntries(
      renderGcpFirewall(
        "c",
        role,
        intentsFor(
          anywhere,
          nodes.filter((n) => n.role === role).map((n) => n.name),
        ),
        addressOf,
        (a) => `${a}/32`,
      ).map((r) => [r.key, r]),
    );

  it("admits UDP 51871 alone from 0.0.0.0/0 on every role, in a rule of its own", () => {
    for (const role of ["control-plane", "worker"] as const) {
      expect(rules(role)[`${role}-wireguard`]).toMatchObject({
        allow: { protocol: "udp", ports: ["51871"] },
        sourceRanges: ["0.0.0.0/0"],
        targetTag: `c-${role}`,
      });
    }
  });

  it("keeps 6443 from every node's /32 and etcd from the control planes'", () => {
    expect(rules("control-plane")["control-plane-apiserver"].sourceRanges).toEqual(["198.51.100.1/32", "198.51.100.2/32", "198.51.100.3/32"]);
    expect(rules("control-plane")["control-plane-etcd"].sourceRanges).toEqual(["198.51.100.1/32"]);
    expect(Object.keys(rules("worker")).sort()).toEqual(["worker-pmtu", "worker-wireguard"]);
  });
});
