import { gzipSync } from "node:zlib";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { runResourcePolicy } from "../test/harness";
import { noLongLivedJoinToken as policy, userDataText } from "./no-long-lived-join-token";

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const urn = (type: string, name: string) => `urn:pulumi:dev::p::${type}::${name}`;
const res = (type: string, name: string, props: Record<string, unknown>) => ({ type, name, urn: urn(type, name), props });

// Compliant: the boot files name the secret and carry a placeholder; the Secret expires in 4 hours.
const BOOT =
  '#cloud-config\nwrite_files:\n- path: /etc/wg-mesh/kubeadm-join.yaml\n  content: |\n    discovery:\n      bootstrapToken:\n        token: "@@WG_MESH_JOIN_TOKEN@@"\n';
const awsInstance = (userData: string) => res("aws:ec2/instance:Instance", "node", { userDataBase64: gzipSync(userData).toString("base64") });
const gcpInstance = (userData: string) => res("gcp:compute/instance:Instance", "node", { metadata: { "user-data": userData } });
const tokenSecret = (stringData: Record<string, unknown>) => res("kubernetes:core/v1:Secret", "join", { type: "bootstrap.kubernetes.io/token", stringData });
const compliantSecret = () => ({ "token-id": "abcdef", "token-secret": "0123456789abcdef", expiration: inHours(4) });

describe("no-long-lived-join-token", () => {
  it("is mandatory and passes the compliant fixtures", async () => {
    expect(policy.enforcementLevel).toBe("mandatory");
    for (const r of [awsInstance(BOOT), gcpInstance(BOOT), tokenSecret(compliantSecret())])
      expect(await runResourcePolicy(policy, r)).toEqual({ violations: [] });
  });

  it("rejects a token in gzipped AWS user data, naming the field and the token id (not the secret half)", async () => {
    const { violations } = await runResourcePolicy(policy, awsInstance(BOOT.replace("@@WG_MESH_JOIN_TOKEN@@", "abcdef.0123456789abcdef")));
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/'node' .*: userDataBase64 holds a kubeadm join token \(id abcdef\)/);
    expect(violations[0].message).not.toContain("0123456789abcdef");
  });

  it("rejects a token in GCP user data and a join command in a startup script", async () => {
    expect((await runResourcePolicy(policy, gcpInstance(BOOT.replace("@@WG_MESH_JOIN_TOKEN@@", "abcdef.0123456789abcdef")))).violations[0].message).toContain(
      "metadata.user-data holds a kubeadm join token",
    );
    const script = res("gcp:compute/instance:Instance", "n", {
      metadataStartupScript: "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-unsafe-skip-ca-verification",
    });
    expect((await runResourcePolicy(policy, script)).violations).toHaveLength(1);
  });

  it("rejects a never-expiring token configured in user data, even with the token itself elsewhere", async () => {
    const init = '#cloud-config\nwrite_files:\n- content: |\n    bootstrapTokens:\n      - token: "@@T@@"\n        ttl: 0s\n';
    expect((await runResourcePolicy(policy, gcpInstance(init))).violations[0].message).toContain("never expires (ttl 0)");
  });

  it("rejects a bootstrap token Secret without an expiration, with a malformed one, or one too far away", async () => {
    const noExpiry: Record<string, string> = { ...compliantSecret() };
    delete noExpiry.expiration;
    expect((await runResourcePolicy(policy, tokenSecret(noExpiry))).violations[0].message).toContain("without 'expiration' never expires");
    expect((await runResourcePolicy(policy, tokenSecret({ ...compliantSecret(), expiration: "tomorrow" }))).violations[0].message).toContain(
      "is not an RFC 3339 time",
    );
    expect((await runResourcePolicy(policy, tokenSecret({ ...compliantSecret(), expiration: inHours(24 * 30) }))).violations[0].message).toContain(
      "more than 168 hours away",
    );
    expect(await runResourcePolicy(policy, tokenSecret({ ...compliantSecret(), expiration: inHours(24 * 30) }), { maxTokenLifetimeHours: 24 * 31 })).toEqual({
      violations: [],
    });
  });

  it("reads a base64 expiration in data, and ignores other Secrets", async () => {
    const data = res("kubernetes:core/v1:Secret", "join", {
      type: "bootstrap.kubernetes.io/token",
      data: { expiration: Buffer.from(inHours(2)).toString("base64") },
    });
    expect(await runResourcePolicy(policy, data)).toEqual({ violations: [] });
    expect(await runResourcePolicy(policy, res("kubernetes:core/v1:Secret", "other", { type: "Opaque", stringData: {} }))).toEqual({ violations: [] });
  });

  it("reports unknown user data or an unknown expiration at preview as unchecked", async () => {
    expect(await runResourcePolicy(policy, res("aws:ec2/instance:Instance", "n", { userDataBase64: UNKNOWN_SENTINEL }))).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("userDataBase64"),
    });
    expect(await runResourcePolicy(policy, tokenSecret({ expiration: UNKNOWN_SENTINEL }))).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("expiration"),
    });
  });

  it("decodes user data as a node would", () => {
    expect(userDataText(gzipSync("#cloud-config\n").toString("base64"), true)).toBe("#cloud-config\n");
    expect(userDataText(Buffer.from("#!/bin/sh\n").toString("base64"), true)).toBe("#!/bin/sh\n");
    expect(userDataText("plain", false)).toBe("plain");
  });
});
