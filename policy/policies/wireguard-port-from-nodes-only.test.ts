import type { FixtureResource } from "../test/fixtures/load";
import { awsWireguard, baseline, get, largeClusterBaseline } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { wireguardPortFromNodesOnly as policy } from "./wireguard-port-from-nodes-only";

const wg = (s: FixtureResource[]) => awsWireguard(s, "wgmesh-worker");
const text = async (s: FixtureResource[]) => (await runStackPolicy(policy, s)).violations.map((v) => v.message).join("\n");

describe("wireguard-port-from-nodes-only (advisory)", () => {
  it("is advisory and passes WireGuard admitted from node addresses and node tags", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("reports UDP 51871 from a range that is not anywhere, or from an address that is no node's", async () => {
    for (const [cidr, shown] of [
      ["198.51.100.0/24", "the range 198.51.100.0/24"],
      ["10.0.0.0/8", "the range 10.0.0.0/8"],
      ["203.0.113.5/32", "203.0.113.5/32 (no node's address)"],
    ]) {
      const s = baseline();
      wg(s).cidrBlocks = [cidr];
      expect({ cidr, text: await text(s) }).toEqual({ cidr, text: expect.stringContaining(`'wgmesh-worker' (urn:`) });
      expect({ cidr, text: await text(s) }).toEqual({ cidr, text: expect.stringContaining(`ingress[0]: admits UDP 51871 (WireGuard) from ${shown}`) });
    }
  });

  it("waits for node addresses before calling a /32 a stranger", async () => {
    const s = baseline();
    wg(s).cidrBlocks = ["203.0.113.5/32"];
    get(s, "wgmesh-aws-cp-0-ip").props.publicIp = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("whether 203.0.113.5/32 is a node's address") });
  });
});

describe("wireguard-port-from-nodes-only: the large-cluster mode (UDP 51871 alone from anywhere)", () => {
  it("accepts a rule admitting UDP 51871 alone from 0.0.0.0/0, on AWS and GCP, and from ::/0", async () => {
    expect(await runStackPolicy(policy, largeClusterBaseline())).toEqual({ violations: [] });
    const v6 = largeClusterBaseline();
    wg(v6).ipv6CidrBlocks = ["::/0"];
    get(v6, "wgmesh-gcp-wireguard").props.sourceRanges = ["0.0.0.0/0", "::/0"];
    expect(await runStackPolicy(policy, v6)).toEqual({ violations: [] });
  });

  // One change each to the compliant large-cluster stack: anything more than the one port from anywhere.
  it.each([
    ["a wider UDP range", (s: FixtureResource[]) => Object.assign(wg(s), { fromPort: 51000, toPort: 52000 }), "'wgmesh-worker'", "UDP 51000-52000"],
    ["all UDP", (s: FixtureResource[]) => Object.assign(wg(s), { fromPort: 0, toPort: 65535 }), "'wgmesh-worker'", "UDP 0-65535"],
    ["every protocol", (s: FixtureResource[]) => Object.assign(wg(s), { protocol: "-1", fromPort: 0, toPort: 0 }), "'wgmesh-worker'", "every protocol"],
    [
      "another port in the same allow",
      (s: FixtureResource[]) => (get(s, "wgmesh-gcp-wireguard").props.allows = [{ protocol: "udp", ports: ["51871", "53"] }]),
      "'wgmesh-gcp-wireguard'",
      "UDP 51871,53",
    ],
    [
      "TCP in another allow of the same firewall",
      (s: FixtureResource[]) => (get(s, "wgmesh-gcp-wireguard").props.allows as unknown[]).push({ protocol: "tcp" }),
      "'wgmesh-gcp-wireguard'",
      "UDP 51871, TCP 0-65535",
    ],
  ])("reports %s from anywhere, naming the rule and what it admits", async (_case, change, resource, admitted) => {
    const s = largeClusterBaseline();
    change(s);
    const { violations } = await runStackPolicy(policy, s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain(resource);
    expect(violations[0].message).toContain(
      `admits UDP 51871 (WireGuard) from the range 0.0.0.0/0 (the rule admits ${admitted} from it; anywhere is accepted only for UDP 51871 alone)`,
    );
  });

  it("keeps reporting a range that is neither the nodes nor anywhere", async () => {
    const s = largeClusterBaseline();
    get(s, "wgmesh-gcp-wireguard").props.sourceRanges = ["10.0.0.0/8"];
    expect(await text(s)).toMatch(/'wgmesh-gcp-wireguard' .*allows\[0\]: admits UDP 51871 \(WireGuard\) from the range 10\.0\.0\.0\/8, not only from nodes/);
  });

  it("cannot tell while another allow of the same firewall is unknown", async () => {
    const s = largeClusterBaseline();
    (get(s, "wgmesh-gcp-wireguard").props.allows as unknown[]).push({ protocol: UNKNOWN_SENTINEL });
    expect(await runStackPolicy(policy, s)).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("whether 'wgmesh-gcp-wireguard'"),
    });
  });
});
