import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumValues } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { durationSeconds, wireguardKeepalive as policy } from "./wireguard-keepalive";

const awsOnly = () => baseline().filter((r) => !r.type.startsWith("gcp:"));

describe("wireguard-keepalive (advisory)", () => {
  it("is advisory and passes 25s across clouds", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects an unset or zero keepalive when nodes span AWS and GCP", async () => {
    const s = baseline();
    delete ciliumValues(s).encryption.wireguard;
    expect((await runStackPolicy(policy, s)).violations[0].message).toMatch(/persistentKeepalive is unset \(0s\) although nodes span aws and gcp/);
    const z = baseline();
    ciliumValues(z).encryption.wireguard.persistentKeepalive = "0s";
    expect((await runStackPolicy(policy, z)).violations).toHaveLength(1);
  });

  it("rejects intervals longer than maxKeepaliveSeconds", async () => {
    const s = baseline();
    ciliumValues(s).encryption.wireguard.persistentKeepalive = "2m";
    expect((await runStackPolicy(policy, s)).violations).toHaveLength(1);
    expect(await runStackPolicy(policy, s, { maxKeepaliveSeconds: 180 })).toEqual({ violations: [] });
  });

  it("does not apply to a single cloud unless nodesBehindNat is set", async () => {
    const s = awsOnly();
    delete ciliumValues(s).encryption.wireguard;
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
    expect((await runStackPolicy(policy, s, { nodesBehindNat: true })).violations[0].message).toContain("nodes sit behind NAT");
  });

  it("reports an unknown keepalive as unchecked", async () => {
    const s = baseline();
    ciliumValues(s).encryption.wireguard.persistentKeepalive = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("persistentKeepalive") });
  });

  it("parses Go durations", () => {
    expect([durationSeconds("25s"), durationSeconds("1m30s"), durationSeconds("25"), durationSeconds("500ms"), durationSeconds("soon")]).toEqual([
      25,
      90,
      25,
      0.5,
      NaN,
    ]);
  });
});
