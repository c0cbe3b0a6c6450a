// The pack's no-long-lived-join-token policy on a shipped stack's real resources, run as the
// Pulumi CLI runs the pack: the stack passes, and each way of leaking the join token again is
// rejected (the token put back into an instance's user data, a bootstrap token Secret that
// never expires).
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { previewLike, startPack, type Diagnostic, type PackProcess } from "../policy/test/analyzer-client";
import type { PhasedResource } from "../policy/test/phases";
import { fromRecorded } from "./policyPhases";
import { runProgram } from "./stackHarness";

const POLICY = "no-long-lived-join-token";
let pack: PackProcess;
let shipped: PhasedResource[];
beforeAll(async () => {
  pack = await startPack(join(__dirname, "..", "policy"));
  shipped = fromRecorded((await runProgram("multicloud")).recorded, "up");
}, 180_000);
afterAll(async () => {
  await pack?.stop();
});

const hits = async (stack: PhasedResource[]) =>
  (await previewLike(pack.client, stack)).filter((d: Diagnostic) => d.policy === POLICY && d.level === "mandatory");
/** Changes a property in both what the engine analyzes before a create (inputs) and after it (props). */
const edit = (f: (props: Record<string, unknown>, r: PhasedResource) => Record<string, unknown> | undefined) =>
  shipped.map((r) => {
    const props = f(r.props, r);
    return props === undefined ? r : { ...r, props: { ...r.props, ...props }, inputs: { ...r.inputs, ...props } };
  });

it("passes the shipped stack", async () => {
  expect(await hits(shipped)).toEqual([]);
});

it("rejects a join token put back into an AWS node's (gzipped) user data", async () => {
  const leaked = edit((props, r) => {
    if (r.type !== "aws:ec2/instance:Instance") return undefined;
    const text = gunzipSync(Buffer.from(props.userDataBase64 as string, "base64"))
      .toString()
      .replace(/@@WG_MESH_JOIN_TOKEN@@/g, "abcdef.0123456789abcdef");
    return { userDataBase64: gzipSync(text).toString("base64") };
  });
  const found = await hits(leaked);
  expect(found.length).toBeGreaterThan(0);
  expect(found[0].message).toContain("userDataBase64 holds a kubeadm join token (id abcdef)");
});

it("rejects the bootstrap token Secret without an expiration", async () => {
  const forever = edit((props, r) => {
    if (r.type !== "kubernetes:core/v1:Secret" || props.type !== "bootstrap.kubernetes.io/token") return undefined;
    const rest: Record<string, string> = { ...(props.stringData as Record<string, string>) };
    delete rest.expiration;
    return { stringData: rest };
  });
  const found = await hits(forever);
  expect(found.length).toBeGreaterThan(0);
  for (const d of found) expect(d.message).toContain("without 'expiration' never expires");
});
