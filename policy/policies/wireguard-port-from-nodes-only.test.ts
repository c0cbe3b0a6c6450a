import type { FixtureResource } from "../test/fixtures/load";
import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { wireguardPortFromNodesOnly as policy } from "./wireguard-port-from-nodes-only";

const wg = (s: FixtureResource[]) => (get(s, "wgmesh-worker").props.ingress as Array<Record<string, unknown>>)[0];

describe("wireguard-port-from-nodes-only (advisory)", () => {
  it("is advisory and passes WireGuard admitted from node addresses and node tags", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("reports UDP 51871 from anywhere, from a range, or from an address that is no node's", async () => {
    for (const [cidr, shown] of [
      ["0.0.0.0/0", "the range 0.0.0.0/0"],
      ["198.51.100.0/24", "the range 198.51.100.0/24"],
      ["203.0.113.5/32", "203.0.113.5/32 (no node's address)"],
    ]) {
      const s = baseline();
      wg(s).cidrBlocks = [cidr];
      expect({ cidr, text: (await runStackPolicy(policy, s)).violations.map((v) => v.message).join() }).toEqual({
        cidr,
        text: expect.stringContaining(`admits UDP 51871 (WireGuard) from ${shown}`),
      });
    }
  });

  it("waits for node addresses before calling a /32 a stranger", async () => {
    const s = baseline();
    wg(s).cidrBlocks = ["203.0.113.5/32"];
    get(s, "wgmesh-aws-cp-0-ip").props.publicIp = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("whether 203.0.113.5/32 is a node's address") });
  });
});
