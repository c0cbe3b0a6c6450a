// Pulumi mocks in the style of awsx's tests: every registered resource is recorded; any
// invoke that is not expected throws. Outputs that later checks depend on are realistic:
// addresses from documentation ranges, and real keys and certificates made with openssl,
// so the PKI wiring (CA, signatures, discovery hash) is checked against real crypto.
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomInt } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
  readonly id: string;
  /** URNs of the resources this one's registration depends on (what the engine orders by). */
  readonly dependencies: string[];
  /** Input property -> URNs it depends on, as the engine (and a policy pack) sees them. */
  readonly propertyDependencies: Record<string, string[]>;
  /** The URN the mock monitor gave the resource. */
  urn: string;
}

const openssl = (args: string[], files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), "mock-tls-"));
  try {
    for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content);
    return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const subjectArg = (s: { commonName?: string; organization?: string } | undefined) =>
  `/${[...(s?.organization ? [`O=${s.organization}`] : []), `CN=${s?.commonName ?? "x"}`].join("/")}`;

/** Synthesizes the outputs a real provider would add for the types the program uses. */
function outputsFor(type: string, inputs: Record<string, any>, seq: number): Record<string, any> {
  switch (type) {
    case "aws:ec2/eip:Eip":
      return { publicIp: `198.51.100.${10 + seq}`, allocationId: `eipalloc-${seq}` };
    case "gcp:compute/address:Address":
      return { address: `192.0.2.${10 + seq}` };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${inputs.name}-abc123` };
    case "gcp:serviceaccount/account:Account":
      return { email: `${inputs.accountId}@project.iam.gserviceaccount.com` };
    case "tls:index/privateKey:PrivateKey": {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      return {
        privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
      };
    }
    case "tls:index/selfSignedCert:SelfSignedCert":
      return {
        certPem: openssl(["req", "-x509", "-new", "-key", "key.pem", "-subj", subjectArg(inputs.subject), "-days", "1",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"], { "key.pem": inputs.privateKeyPem }),
      };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: openssl(["req", "-new", "-key", "key.pem", "-subj", subjectArg(inputs.subject)], { "key.pem": inputs.privateKeyPem }) };
    case "tls:index/locallySignedCert:LocallySignedCert":
      return {
        certPem: openssl(["x509", "-req", "-in", "csr.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"],
          { "csr.pem": inputs.certRequestPem, "ca.pem": inputs.caCertPem, "ca.key": inputs.caPrivateKeyPem }),
      };
    case "random:index/randomString:RandomString": {
      const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
      return { result: Array.from({ length: inputs.length }, () => alphabet[randomInt(alphabet.length)]).join("") };
    }
    default:
      return {};
  }
}

const expectedInvokes: Record<string, (args: any) => Record<string, any>> = {
  "aws:ec2/getAmi:getAmi": () => ({ id: "ami-0123456789abcdef0", name: "ubuntu-noble-24.04-amd64-server-20260101" }),
};

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Mocks see secret inputs wrapped in Pulumi's secret envelope; tests want the plain values. */
export function unwrapSecrets(v: any): any {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    if (v[SIG_KEY] === SECRET_SIG) return unwrapSecrets(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** Installs the mocks; returns the list that fills as resources register. */
export async function installMocks(project: string, stack: string, preview = false): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  const registrations = new Map<string, { dependencies: string[]; propertyDependencies: Record<string, string[]> }>();
  let seq = 0;
  await pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const inputs = unwrapSecrets(args.inputs);
      const state = { ...inputs, ...outputsFor(args.type, inputs, seq++) };
      const id = `${args.name}_id`;
      const registration = registrations.get(`${args.type}::${args.name}`);
      recorded.push({ type: args.type, name: args.name, inputs, state, id, urn: "", dependencies: registration?.dependencies ?? [], propertyDependencies: registration?.propertyDependencies ?? {} });
      return { id, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      const f = expectedInvokes[args.token];
      if (!f) throw new Error(`unexpected invoke ${args.token}(${JSON.stringify(args.inputs)})`);
      return f(args.inputs);
    },
  }, project, stack, preview);
  // Mocks do not show dependencies or URNs; the RegisterResource request and response do.
  // Wrap the mock monitor to keep them.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}::${req.getName()}`;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: { getUrnsList(): string[] }, prop: string) => { propertyDependencies[prop] = deps.getUrnsList(); });
    registrations.set(key, { dependencies: req.getDependenciesList() as string[], propertyDependencies });
    return original(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      const r = recorded.find((x) => `${x.type}::${x.name}` === key);
      if (r && resp) r.urn = resp.getUrn();
      callback(err, resp);
    });
  };
  return recorded;
}

/** Resolves an Output's value (and whether it is secret) in a test. */
export async function resolve<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((res) => o.apply((v) => { res(v); return v; }));
}

/** Waits until every registration RPC has completed. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

export const ofType = (rs: readonly Recorded[], type: string): Recorded[] => rs.filter((r) => r.type === type);
