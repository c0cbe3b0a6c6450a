import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { wireguardPortBetweenPools as policy } from "./wireguard-port-between-pools";

type Rule = Record<string, unknown>;
const ingress = (s: FixtureResource[], sg: string) => get(s, sg).props.ingress as Rule[];
const messages = async (s: FixtureResource[], config = {}) => (await runStackPolicy(policy, s, config)).violations.map((v) => v.message);

describe("wireguard-port-between-pools", () => {
  it("passes when UDP 51871 is open between all four pools", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects a pool that does not admit WireGuard from itself", async () => {
    const s = baseline(); ingress(s, "wgmesh-worker").splice(0, 1);
    const out = await runStackPolicy(policy, s);
    expect(out.violations).toHaveLength(1);
    expect(out.violations[0]).toMatchObject({
      urn: get(s, "wgmesh-worker").urn,
      message: expect.stringMatching(/UDP 51871 is not admitted from security group 'wgmesh-worker' .* to security group 'wgmesh-worker'/),
    });
  });

  it("rejects a missing path from another pool in the same cloud", async () => {
    const s = baseline(); ingress(s, "wgmesh-worker").splice(1, 1);
    expect(await messages(s)).toEqual([expect.stringMatching(/from security group 'wgmesh-control-plane' .* to security group 'wgmesh-worker'/)]);
  });

  it("rejects a missing path from the other cloud (address ranges are the only way in)", async () => {
    const s = baseline(); ingress(s, "wgmesh-control-plane").splice(2, 1);
    expect(await messages(s)).toEqual([
      expect.stringContaining("from GCP nodes tagged 'wgmesh-control-plane' to security group 'wgmesh-control-plane'"),
      expect.stringContaining("from GCP nodes tagged 'wgmesh-worker' to security group 'wgmesh-control-plane'"),
    ]);
  });

  it("rejects a GCP pool without any WireGuard firewall", async () => {
    const s = baseline().filter((r) => r.name !== "wgmesh-gcp-worker");
    const text = (await messages(s)).join("\n");
    expect(text).toContain("to GCP nodes tagged 'wgmesh-worker'");
    expect(text).not.toContain("to GCP nodes tagged 'wgmesh-control-plane'");
  });

  it("matches group references whose ids are unknown through property dependencies", async () => {
    const s = baseline();
    const worker = get(s, "wgmesh-worker");
    ingress(s, "wgmesh-worker")[1].securityGroups = [UNKNOWN_SENTINEL];
    worker.propertyDependencies = { ingress: [get(s, "wgmesh-control-plane").urn] };
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });

  it("follows a configured WireGuard port", async () => {
    expect((await messages(baseline(), { wireguardPort: 51820 })).length).toBe(16); // 4 pools x 4 pools
  });

  it("reports unknown ports as unchecked instead of as closed", async () => {
    const s = baseline(); const rule = ingress(s, "wgmesh-worker")[0];
    rule.fromPort = UNKNOWN_SENTINEL; rule.toPort = UNKNOWN_SENTINEL;
    const out = await runStackPolicy(policy, s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toContain("protocol/ports of 'wgmesh-worker'");
  });

  it("has nothing to check in a stack without node pools", async () => {
    expect(await runStackPolicy(policy, baseline().filter((r) => !/Instance|Firewall|SecurityGroup/.test(r.type)))).toEqual({ violations: [] });
  });
});
