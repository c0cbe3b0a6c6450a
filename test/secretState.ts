// What state holds secret: every credential-bearing output must be a secret in state from
// the moment it exists, not only where the program later wraps it. Judged from what the
// engine receives: each resource's options (additionalSecretOutputs, captured by the stack
// transformation; the SDK adds a type's secret-by-default outputs there), its serialized
// inputs (secrets travel in Pulumi's secret envelope) and the components' registered outputs.
import type { Recorded, RegisteredOutputs } from "./pulumiMocks";
import type { CapturedOptions } from "./stackHarness";

/** Outputs that carry a credential, per resource type (dynamic resources by name suffix). */
export const CREDENTIAL_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"],
  "random:index/randomString:RandomString": ["result"],
  "random:index/randomPassword:RandomPassword": ["result"],
  "aws:secretsmanager/secretVersion:SecretVersion": ["secretString"],
  "gcp:secretmanager/secretVersion:SecretVersion": ["secretData"],
  "kubernetes:core/v1:Secret": ["data", "stringData"],
  "pulumi-nodejs:dynamic:Resource/-join-token": ["token", "previous"],
};

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const isSecretEnvelope = (v: any) => v !== null && typeof v === "object" && SIG_KEY in v;

/** Strings that are credentials whatever property they sit in. */
const LOOKS_LIKE_CREDENTIAL = [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, /(^|[^a-z0-9])[a-z0-9]{6}\.[a-z0-9]{16}([^a-z0-9]|$)/, /client-key-data/];
export const looksLikeCredential = (s: string): boolean => LOOKS_LIKE_CREDENTIAL.some((re) => re.test(s));

/** Paths of credential-looking strings that are not inside a secret envelope. */
export function plainCredentials(value: any, path = ""): string[] {
  if (isSecretEnvelope(value)) return [];
  if (typeof value === "string") return looksLikeCredential(value) ? [path || "(value)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainCredentials(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => plainCredentials(v, path ? `${path}.${k}` : k));
  return [];
}

const credentialKey = (r: { type: string; name: string }) =>
  r.type === "pulumi-nodejs:dynamic:Resource"
    ? Object.keys(CREDENTIAL_OUTPUTS).find((k) => k.startsWith(`${r.type}/`) && r.name.endsWith(k.split("/").pop()!))
    : r.type;

/** Every way a credential is left plain in state: a finding names the resource and the property. */
export function plainCredentialFindings(
  recorded: readonly Recorded[],
  options: readonly CapturedOptions[],
  components: readonly RegisteredOutputs[],
): string[] {
  const findings: string[] = [];
  for (const r of recorded) {
    const opts = options.find((o) => o.type === r.type && o.name === r.name);
    const secretOutputs = new Set(opts?.additionalSecretOutputs ?? []);
    const key = credentialKey(r);
    for (const out of key ? (CREDENTIAL_OUTPUTS[key] ?? []) : []) {
      if (!secretOutputs.has(out)) findings.push(`${r.type} ${r.name}: output ${out} is not in additionalSecretOutputs`);
    }
    for (const p of plainCredentials(r.sentInputs)) findings.push(`${r.type} ${r.name}: input ${p} holds a credential in plain text`);
    // Outputs the provider adds (not inputs): plain unless listed as secret.
    for (const [prop, value] of Object.entries(r.state)) {
      if (prop in r.inputs || secretOutputs.has(prop)) continue;
      for (const p of plainCredentials(value, prop)) findings.push(`${r.type} ${r.name}: output ${p} holds a credential and is not secret`);
    }
  }
  for (const c of components) {
    for (const p of plainCredentials(c.outputs)) findings.push(`${c.urn}: registered output ${p} holds a credential in plain text`);
  }
  return findings;
}
