import { bootstrapTokenSecret, issue, joinTokenDiff, needsRotation, newToken, storeDocument, TOKEN_PATTERN } from "./joinToken";

const now = new Date("2026-03-01T12:00:00Z");
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe("join token", () => {
  it("is kubeadm-shaped, random, and expires after the TTL", () => {
    const t = issue(undefined, 4, now);
    expect(t.token).toMatch(TOKEN_PATTERN);
    expect(t.tokenId).toBe(t.token.slice(0, 6));
    expect(t.expires).toBe("2026-03-01T16:00:00Z");
    expect(t.previous).toBeUndefined();
    expect(new Set(Array.from({ length: 50 }, () => newToken())).size).toBe(50);
  });

  it("is rotated by `pulumi up` once less than half of its TTL is left, or when the TTL changes, and not before", () => {
    const t = issue(undefined, 4, now);
    expect(joinTokenDiff(t, { ttlHours: 4 }, hours(1.9))).toEqual({ changes: false });
    expect(needsRotation(t, 4, hours(2.1))).toBe(true);
    expect(needsRotation(t, 4, hours(30))).toBe(true); // long expired: the cluster deleted it
    expect(needsRotation(t, 8, hours(0))).toBe(true);
    expect(needsRotation({ ...t, expires: "garbage" }, 4, now)).toBe(true);
  });

  it("keeps the previous token in the stores while it is still valid, and drops it once expired", () => {
    const first = issue(undefined, 4, now);
    const second = issue(first, 4, hours(3));
    expect(second.token).not.toBe(first.token);
    expect(second.previous).toEqual({ token: first.token, expires: first.expires });
    expect(JSON.parse(storeDocument(second)).tokens.map((x: { token: string }) => x.token)).toEqual([second.token, first.token]);
    expect(issue(first, 4, hours(5)).previous).toBeUndefined();
  });

  it("is valid in the cluster as a bootstrap token Secret with an expiration", () => {
    const t = issue(undefined, 4, now);
    const s = bootstrapTokenSecret(t);
    expect(s.type).toBe("bootstrap.kubernetes.io/token");
    expect(s.metadata).toMatchObject({ name: `bootstrap-token-${t.tokenId}`, namespace: "kube-system" });
    expect(s.stringData).toMatchObject({
      "token-id": t.tokenId,
      "token-secret": t.token.slice(7),
      expiration: t.expires,
      "usage-bootstrap-authentication": "true",
      "usage-bootstrap-signing": "true",
      "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    });
  });
});
