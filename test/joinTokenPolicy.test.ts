// The pack's no-long-lived-join-token policy on a shipped stack's real resources, run as the
// Pulumi CLI runs the pack: the stack passes, and each way of leaking the join token again is
// rejected (the token put back into an instance's user data, a bootstrap token Secret that
// never expires).
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { previewLike, startPack, type Diagnostic, type PackProcess } from "../policy/test/analyzer-client";
import type { FixtureResource } from "../policy/test/fixtures/load";
import { asPolicyResources } from "./policyAssertions";
import { runProgram } from "./stackHarness";

const POLICY = "no-long-lived-join-token";
let pack: PackProcess;
let shipped: FixtureResource[];
beforeAll(async () => {
  pack = await startPack(join(__dirname, "..", "policy"));
  shipped = asPolicyResources((await runProgram("multicloud")).recorded);
}, 180_000);
afterAll(async () => { await pack?.stop(); });

const hits = async (stack: FixtureResource[]) => (await previewLike(pack.client, stack)).filter((d: Diagnostic) => d.policy === POLICY && d.level === "mandatory");
const edit = (f: (r: FixtureResource) => FixtureResource | undefined) => shipped.map((r) => f(r) ?? r);

it("passes the shipped stack", async () => {
  expect(await hits(shipped)).toEqual([]);
});

it("rejects a join token put back into an AWS node's (gzipped) user data", async () => {
  const leaked = edit((r) => {
    if (r.type !== "aws:ec2/instance:Instance") return undefined;
    const text = gunzipSync(Buffer.from(r.props.userDataBase64 as string, "base64")).toString().replace(/@@WG_MESH_JOIN_TOKEN@@/g, "abcdef.0123456789abcdef");
    return { ...r, props: { ...r.props, userDataBase64: gzipSync(text).toString("base64") } };
  });
  const found = await hits(leaked);
  expect(found.length).toBeGreaterThan(0);
  expect(found[0].message).toContain("userDataBase64 holds a kubeadm join token (id abcdef)");
});

it("rejects the bootstrap token Secret without an expiration", async () => {
  const forever = edit((r) => {
    if (r.type !== "kubernetes:core/v1:Secret" || r.props.type !== "bootstrap.kubernetes.io/token") return undefined;
    const rest: Record<string, string> = { ...(r.props.stringData as Record<string, string>) };
    delete rest.expiration;
    return { ...r, props: { ...r.props, stringData: rest } };
  });
  expect((await hits(forever)).map((d) => d.message)).toEqual([expect.stringContaining("without 'expiration' never expires")]);
});
