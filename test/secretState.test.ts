// Every shipped stack: no credential is left plain in state (test/secretState.ts), and the
// check fails when one is: a private key whose outputs lose their secret marking, and a
// credential passed into a component's outputs unwrapped.
import * as pulumi from "@pulumi/pulumi";
import { plainCredentialFindings, plainCredentials } from "./secretState";
import { runProgram, stackConfig, stackNames } from "./stackHarness";

describe.each(stackNames())("stack %s", (stack) => {
  it("keeps every credential-bearing output secret in state", async () => {
    const run = await runProgram(stack);
    const keyed = run.recorded.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    expect(keyed.length).toBeGreaterThan(0);
    expect(run.recorded.some((r) => r.name.endsWith("-join-token") && r.type === "pulumi-nodejs:dynamic:Resource")).toBe(true);
    expect(run.componentOutputs.length).toBeGreaterThan(5);
    expect(plainCredentialFindings(run.recorded, run.options, run.componentOutputs)).toEqual([]);
  }, 120_000);
});

it("the check can fail: private keys stripped of their secret outputs are reported", async () => {
  const strip: pulumi.ResourceTransformation = (args) =>
    args.type === "tls:index/privateKey:PrivateKey" ? { props: args.props, opts: { ...args.opts, additionalSecretOutputs: [] } } : undefined;
  const run = await runProgram("aws", stackConfig("aws"), false, [], strip);
  const findings = plainCredentialFindings(run.recorded, run.options, run.componentOutputs);
  expect(findings).toEqual(
    expect.arrayContaining([expect.stringMatching(/tls:index\/privateKey:PrivateKey \S+-pki-ca-key: output privateKeyPem is not in additionalSecretOutputs/)]),
  );
}, 120_000);

it("finds a credential outside a secret envelope, and none inside one", () => {
  const envelope = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "abcdef.0123456789abcdef" };
  expect(plainCredentials({ a: { token: "abcdef.0123456789abcdef" }, b: [envelope], c: "-----BEGIN RSA PRIVATE KEY-----\n" })).toEqual(["a.token", "c"]);
  expect(plainCredentials({ kubeconfig: "users:\n- user:\n    client-key-data: AAAA" })).toEqual(["kubeconfig"]);
  expect(plainCredentials({ image: `ghcr.io/x/y@sha256:${"ab".repeat(32)}`, ami: "ami-0abcdef1234567890", host: "api.example.com" })).toEqual([]);
});
