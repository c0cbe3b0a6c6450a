// Pulumi mocks in the style of awsx's tests: every registered resource is recorded; any
// invoke that is not expected throws. Outputs that later checks depend on are realistic:
// addresses from a benchmark range, stable per resource, and real keys and certificates
// made with openssl, so the PKI wiring (CA, signatures, discovery hash) is checked against
// real crypto. A second run can start from a first run's resources, as the engine would from
// state: a resource registered again with the same inputs keeps its outputs.
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomInt } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { issue } from "../components/cluster/joinToken";

/** Resource options as the engine received them in the RegisterResource request. */
export interface RegisteredOptions {
  readonly ignoreChanges: string[];
  readonly replaceOnChanges: string[];
  readonly deleteBeforeReplace: boolean;
  /** URN of the deletedWith resource, "" when none. */
  readonly deletedWith: string;
  /** Provider reference (`<provider URN>::<id>`) the resource is registered with, "" for the default provider. */
  readonly provider: string;
  /** The URNs the resource was known by before (its aliases, as the SDK computed them). */
  readonly aliases: string[];
}

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
  /** Options from the RegisterResource request. */
  readonly options: RegisteredOptions;
  /** The URN the mock monitor gave the resource. */
  urn: string;
  /** The inputs as serialized in the request, secrets still in Pulumi's secret envelope (what state stores). */
  readonly sentInputs: Record<string, any>;
  /** additionalSecretOutputs from the request. */
  readonly additionalSecretOutputs: string[];
}

/** A component's (or the stack's) registered outputs, as serialized (secrets in their envelope). */
export interface RegisteredOutputs {
  readonly urn: string;
  readonly outputs: Record<string, any>;
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

/**
 * Static addresses (198.18.0.0/15, the benchmark range), one per resource name, owned by one
 * mocked run: a run's addresses depend on its own registrations alone, never on which tests ran
 * before it. A second run (`previous`) keeps every address its resources already hold, as a
 * cloud keeps an address for as long as its resource lives, and new ones never take them.
 */
class AddressAllocator {
  private readonly taken = new Set<string>();
  private readonly byKey = new Map<string, string>();
  private next = 0;

  constructor(previous: readonly Recorded[]) {
    for (const r of previous) for (const a of [r.state?.publicIp, r.state?.address]) if (typeof a === "string") this.taken.add(a);
  }

  addressFor(key: string, secondHalf: boolean): string {
    let a = this.byKey.get(key);
    while (!a || (this.taken.has(a) && !this.byKey.has(key))) {
      const n = this.next++;
      a = `198.${secondHalf ? 19 : 18}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    }
    this.byKey.set(key, a);
    this.taken.add(a);
    return a;
  }
}

const uuidFrom = (seed: string) => {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** A name as the AWS provider auto-names a resource without one: the logical name and a random-looking suffix, stable per name. */
const autoName = (name: string) => `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;

/** Types whose id is their name, as the provider reports it (`role`, `iamInstanceProfile` take it). */
const NAMED_BY_ID: Record<string, string> = {
  "aws:iam/role:Role": "role",
  "aws:iam/instanceProfile:InstanceProfile": "instance-profile",
};

/** The id the provider would return for a new resource. */
function idFor(type: string, name: string, state: Record<string, any>): string {
  return NAMED_BY_ID[type] !== undefined ? state.name : `${name}_id`;
}

/** Synthesizes the outputs a real provider would add for the types the program uses. */
function outputsFor(type: string, name: string, inputs: Record<string, any>, addresses: AddressAllocator): Record<string, any> {
  if (NAMED_BY_ID[type] !== undefined) {
    const n = inputs.name ?? autoName(name);
    return { name: n, arn: `arn:aws:iam::123456789012:${NAMED_BY_ID[type]}/${n}` };
  }
  switch (type) {
    case "aws:ec2/eip:Eip":
      return { publicIp: addresses.addressFor(`eip:${name}`, false), allocationId: `eipalloc-${createHash("sha256").update(name).digest("hex").slice(0, 12)}` };
    case "gcp:compute/address:Address":
      // An internal reservation is made with the address the program chose.
      return inputs.addressType === "INTERNAL" ? {} : { address: addresses.addressFor(`gcp:${name}`, true) };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${inputs.name}-abc123` };
    case "gcp:serviceaccount/account:Account":
      return { email: `${inputs.accountId}@project.iam.gserviceaccount.com` };
    case "pulumi-nodejs:dynamic:Resource":
      // The readiness resource reads the cluster's identity; a new create is a new cluster.
      if (name.endsWith("-api-ready")) return { clusterId: uuidFrom(`${name}:${randomInt(1 << 30)}`) };
      // The join token, as its provider issues one (joinToken.ts).
      if (name.endsWith("-join-token")) return issue(undefined, inputs.ttlHours, new Date());
      return {};
    case "tls:index/privateKey:PrivateKey": {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      return {
        privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
      };
    }
    case "tls:index/selfSignedCert:SelfSignedCert":
      return {
        certPem: openssl(
          [
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            subjectArg(inputs.subject),
            "-days",
            "1",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
          ],
          { "key.pem": inputs.privateKeyPem },
        ),
      };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: openssl(["req", "-new", "-key", "key.pem", "-subj", subjectArg(inputs.subject)], { "key.pem": inputs.privateKeyPem }) };
    case "tls:index/locallySignedCert:LocallySignedCert":
      return {
        certPem: openssl(["x509", "-req", "-in", "csr.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"], {
          "csr.pem": inputs.certRequestPem,
          "ca.pem": inputs.caCertPem,
          "ca.key": inputs.caPrivateKeyPem,
        }),
      };
    case "random:index/randomString:RandomString": {
      const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
      return { result: Array.from({ length: inputs.length }, () => alphabet[randomInt(alphabet.length)]).join("") };
    }
    default:
      return {};
  }
}

/** Answers to invokes by token; throwing stands for a denied read. */
export type InvokeAnswers = Readonly<Record<string, (args: any) => Record<string, any>>>;

/** A Cloud Quotas QuotaInfo as gcp.cloudquota.getSQuotaInfo returns it: one value per region, or project-wide. */
export const gcpQuotaInfo = (quotaId: string, value: number, region?: string) => ({
  quotaId,
  dimensionsInfos: [{ applicableLocations: region ? [region] : ["global"], details: [{ value: String(value) }], dimensions: region ? { region } : {} }],
});

/**
 * The program looks nothing up at deploy time (images are pinned in config); only the
 * preflight reads the clouds' quotas and what already uses them. By default an account with
 * room for every test stack and nothing else allocated; tests pass other answers. Any other
 * invoke is unexpected.
 */
export const DEFAULT_INVOKES: InvokeAnswers = {
  "aws:servicequotas/getServiceQuota:getServiceQuota": (a) => ({ value: 1000, quotaCode: a.quotaCode, serviceCode: a.serviceCode }),
  "aws:ec2/getEips:getEips": () => ({ allocationIds: [], publicIps: [] }),
  "aws:ec2/getInstanceType:getInstanceType": (a) => ({ instanceType: a.instanceType, defaultVcpus: 2 }),
  "aws:ec2/getInstances:getInstances": () => ({ ids: [], privateIps: [], publicIps: [] }),
  "gcp:cloudquota/getSQuotaInfo:getSQuotaInfo": (a) => gcpQuotaInfo(a.quotaId, 1000),
  "gcp:compute/getAddresses:getAddresses": () => ({ addresses: [] }),
  "gcp:compute/getMachineTypes:getMachineTypes": (a) => ({
    machineTypes: [{ name: /name = "([^"]+)"/.exec(a.filter ?? "")?.[1] ?? "e2-standard-4", guestCpus: 4 }],
  }),
};

/** The stacks the last installed mocks' program read through a StackReference, by fully qualified name. */
export const stackReads: string[] = [];

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

/** Inputs that identify "the same registration" across runs (dynamic providers serialize their code). */
const comparable = (inputs: Record<string, any>) => Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== "__provider"));

/**
 * Installs the mocks; returns the list that fills as resources register. With `previous`
 * (a first run's resources), a resource registered again keeps its id, and keeps its
 * outputs when its inputs are unchanged, as `pulumi up` does from state.
 */
export async function installMocks(
  project: string,
  stack: string,
  preview = false,
  previous: readonly Recorded[] = [],
  componentOutputs: RegisteredOutputs[] = [],
  invokes: InvokeAnswers = DEFAULT_INVOKES,
  lastOutputs: Record<string, unknown> = {},
): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  stackReads.length = 0;
  const addresses = new AddressAllocator(previous);
  const registrations = new Map<string, Pick<Recorded, "dependencies" | "propertyDependencies" | "options" | "sentInputs" | "additionalSecretOutputs">>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        // A StackReference (a read, not a resource of the stack): the stack's outputs after its last run.
        if (args.type === "pulumi:pulumi:StackReference") {
          stackReads.push(args.inputs.name as string);
          return { id: args.inputs.name as string, state: { name: args.inputs.name, outputs: lastOutputs, secretOutputNames: [] } };
        }
        const inputs = unwrapSecrets(args.inputs);
        const before = previous.find((p) => p.type === args.type && p.name === args.name);
        const same = before !== undefined && isDeepStrictEqual(comparable(before.inputs), comparable(inputs));
        const state = same ? before.state : { ...(before ? before.state : outputsFor(args.type, args.name, inputs, addresses)), ...inputs };
        const id = before?.id ?? idFor(args.type, args.name, state);
        const registration = registrations.get(`${args.type}::${args.name}`);
        if (args.type !== "pulumi:pulumi:Stack") {
          recorded.push({
            type: args.type,
            name: args.name,
            inputs,
            state,
            id,
            urn: "",
            dependencies: registration?.dependencies ?? [],
            propertyDependencies: registration?.propertyDependencies ?? {},
            options: registration?.options ?? {
              ignoreChanges: [],
              replaceOnChanges: [],
              deleteBeforeReplace: false,
              deletedWith: "",
              provider: "",
              aliases: [],
            },
            sentInputs: registration?.sentInputs ?? {},
            additionalSecretOutputs: registration?.additionalSecretOutputs ?? [],
          });
        }
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        const f = invokes[args.token];
        if (!f) throw new Error(`unexpected invoke ${args.token}(${JSON.stringify(args.inputs)})`);
        return f(args.inputs);
      },
    },
    project,
    stack,
    preview,
    // The DIY backend's organization, as `pulumi up` gives it to the program.
    "organization",
  );
  // Mocks do not show dependencies, options or URNs; the RegisterResource request and
  // response do. Wrap the mock monitor to keep them.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: any, cb: any) => void;
    registerResourceOutputs: (req: any, cb: any) => void;
  };
  const originalOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) => {
    componentOutputs.push({ urn: req.getUrn(), outputs: req.getOutputs()?.toJavaScript() ?? {} });
    return originalOutputs(req, callback);
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}::${req.getName()}`;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: { getUrnsList(): string[] }, prop: string) => {
      propertyDependencies[prop] = deps.getUrnsList();
    });
    registrations.set(key, {
      dependencies: req.getDependenciesList() as string[],
      propertyDependencies,
      options: {
        ignoreChanges: req.getIgnorechangesList() as string[],
        replaceOnChanges: req.getReplaceonchangesList() as string[],
        deleteBeforeReplace: req.getDeletebeforereplace() as boolean,
        deletedWith: req.getDeletedwith() as string,
        provider: req.getProvider() as string,
        aliases: aliasUrns(req),
      },
      sentInputs: req.getObject()?.toJavaScript() ?? {},
      additionalSecretOutputs: req.getAdditionalsecretoutputsList() as string[],
    });
    return original(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      const r = recorded.find((x) => `${x.type}::${x.name}` === key);
      if (r && resp) r.urn = resp.getUrn();
      callback(err, resp);
    });
  };
  return recorded;
}

/** A request's aliases as URNs: sent as URNs, or as specs (name, type, parent URN) when the monitor takes those. */

function aliasUrns(req: any): string[] {
  const urns = (req.getAliasurnsList?.() ?? []) as string[];

  const specs = ((req.getAliasesList?.() ?? []) as any[]).map((a) => {
    const spec = a.getSpec?.();
    if (!spec) return a.getUrn?.() as string;
    const name = spec.getName() || req.getName();
    const type = spec.getType() || req.getType();
    // No parent named: the alias keeps the resource's own parent (unless it says it had none).
    const parent = spec.getNoparent() ? "" : (spec.getParenturn() as string) || (req.getParent() as string);
    // The root stack's children carry no parent type in their URNs.
    const parentType = parent && !parent.split("::")[2].startsWith("pulumi:pulumi:Stack") ? parent.split("::")[2] : "";
    const stack = spec.getStack() || pulumi.getStack();
    const project = spec.getProject() || pulumi.getProject();
    return `urn:pulumi:${stack}::${project}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
  });
  return [...urns, ...specs];
}

/** Resolves an Output's value (and whether it is secret) in a test. */
export async function resolve<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((res) =>
    o.apply((v) => {
      res(v);
      return v;
    }),
  );
}

/** Waits until every registration RPC has completed. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

export const ofType = (rs: readonly Recorded[], type: string): Recorded[] => rs.filter((r) => r.type === type);
