// The largest stack the program takes (MAX_NODES): 1,000 nodes across both clouds (697 AWS, 303 GCP), registered
// through the real program under the mocks, judged by the firewall model built from what was
// registered (test/underlay.ts), not by the intents. Every node admits WireGuard from every
// other node, every control plane the API from every node and etcd from every control plane;
// the boot files fit; the quotas the stack needs are the ones the README's limits table lists.
// The program's evaluation time at 100, 300 and 1,000 nodes is printed (a report: timing is the
// benchmarks' business, not an assertion's).
import { MAX_NODES } from "../components/core/nodeTable";
import { SECRET_VALUE_LIMIT } from "../components/cluster/bootstrap/bootGuard";
import { EC2_USER_DATA_LIMIT } from "../components/aws/userData";
import { installMocks, ofType, type Recorded } from "./pulumiMocks";
import { projectName, runProgram, SITE_PINS } from "./stackHarness";
import { admissionsTo, underlayNodes, type UnderlayNode } from "./underlay";
import { bootGuardDocuments, instances } from "./userData";

const AWS_ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/** Pools of at most 100 nodes (an AWS prefix-list part), spread over the zones in turn. */
function pools(count: number, prefix: string, zones: readonly string[], machineType: string): { zone: string }[] {
  return Array.from({ length: Math.ceil(count / 100) }, (_, k) => ({
    name: `${prefix}${k}`,
    role: "worker",
    count: Math.min(100, count - 100 * k),
    machineType,
    zone: zones[k % zones.length],
  }));
}

/** `count` split into `parts` counts that differ by at most one. */
const split = (count: number, parts: number): number[] => Array.from({ length: parts }, (_, k) => Math.floor(count / parts) + (k < count % parts ? 1 : 0));

/**
 * `total` nodes in both clouds: GCP three control planes and up to 300 workers (GCP's one subnet
 * takes four pools of at most 100), AWS the other workers (up to four pools in each of three
 * zones; no AWS control plane: its interface would carry 6443 from every node, over AWS's 1,000
 * rules past ~990 nodes). WireGuard from anywhere (cluster.wireguardFrom), the quotas raised to
 * what the stack needs and no more.
 */
export function scaleConfig(total: number, quotas = true): { config: Record<string, string>; aws: number; gcp: number } {
  const gcpWorkers = Math.min(300, Math.round(total * 0.3));
  const gcpCount = 3 + gcpWorkers;
  const awsCount = total - gcpCount;
  const awsPools = pools(awsCount, "w", AWS_ZONES, "t3.large");
  const aws = {
    region: "eu-west-1",
    ami: SITE_PINS.ami,
    ...(quotas ? { quotas: { elasticIps: awsCount } } : {}),
    pools: awsPools,
    subnetCidrs: Object.fromEntries(AWS_ZONES.map((z, i) => [z, `10.10.${8 * (i + 1)}.0/21`]).filter(([z]) => awsPools.some((p) => p.zone === z))),
  };
  const gcp = {
    project: "demo-project-123",
    region: "europe-west1",
    image: SITE_PINS.gcpImage,
    subnetCidr: "10.20.0.0/20",
    ...(quotas ? { quotas: { staticAddresses: gcpCount } } : {}),
    pools: [
      { name: "cp", role: "control-plane", count: 3, machineType: "e2-standard-4", zone: "europe-west1-b" },
      ...split(gcpWorkers, Math.ceil(gcpWorkers / 100)).map((count, k) => ({
        name: `w${k}`,
        role: "worker",
        count,
        machineType: "e2-standard-4",
        zone: "europe-west1-b",
      })),
    ],
  };
  const config = {
    [`${projectName}:cluster`]: JSON.stringify({ name: "scale", adminCidrs: [SITE_PINS.adminCidr], wireguardFrom: "anywhere" }),
    // The live quotas (vCPUs) are the account's: README's limits give what this layout needs.
    [`${projectName}:preflight`]: JSON.stringify({ skip: ["imagePull", "quotas"] }),
    [`${projectName}:aws`]: JSON.stringify(aws),
    [`${projectName}:gcp`]: JSON.stringify(gcp),
    [`${projectName}:nodeRouter`]: JSON.stringify({ image: SITE_PINS.agentImage }),
  };
  return { config, aws: awsCount, gcp: gcpCount };
}

const WIREGUARD = 51871;

/** The addresses each admission of `to` lets in on (protocol, port): every address, or the listed ones. */
function sourcesOn(admissions: ReturnType<typeof admissionsTo>, protocol: string, port: number): { any: boolean; addresses: Set<string> } {
  const on = admissions.filter((a) => a.protocol === protocol && a.from <= port && port <= a.to);
  const any = on.some((a) => a.sources.some((s) => s === "0.0.0.0/0"));
  return { any, addresses: new Set(on.flatMap((a) => a.sources.filter((s) => s.endsWith("/32")).map((s) => s.slice(0, -3)))) };
}

/** The nodes `from` that `to` does not admit on (protocol, port). */
function notAdmitted(
  rs: readonly Recorded[],
  to: UnderlayNode,
  from: readonly UnderlayNode[],
  protocol: string,
  port: number,
  cache: Map<string, ReturnType<typeof admissionsTo>>,
): string[] {
  if (!cache.has(to.name)) cache.set(to.name, admissionsTo(rs, to));
  const s = sourcesOn(cache.get(to.name)!, protocol, port);
  return s.any ? [] : from.filter((f) => f !== to && !s.addresses.has(f.address)).map((f) => `${f.name} -> ${to.name} ${protocol}/${port}`);
}

const largest = scaleConfig(MAX_NODES);

describe(`the largest stack: ${MAX_NODES} nodes, ${largest.aws} in AWS and ${largest.gcp} in GCP`, () => {
  let recorded: Recorded[];
  let seconds: number;

  beforeAll(async () => {
    const started = process.hrtime.bigint();
    recorded = (await runProgram("scale", largest.config)).recorded;
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  }, 900_000);

  it("registers every node, and every node admits WireGuard from every other node", () => {
    const nodes = underlayNodes(recorded);
    expect(nodes).toHaveLength(MAX_NODES);
    expect(new Set(nodes.map((n) => n.address)).size).toBe(MAX_NODES);
    const cache = new Map<string, ReturnType<typeof admissionsTo>>();
    expect(nodes.flatMap((to) => notAdmitted(recorded, to, nodes, "udp", WIREGUARD, cache))).toEqual([]);
    console.log(`[scale] ${MAX_NODES} nodes: the program evaluated in ${seconds.toFixed(1)} s under the mocks`);
  });

  it("every control plane admits the API from every node and etcd from every control plane, through per-node sources", () => {
    const nodes = underlayNodes(recorded);
    const controlPlanes = nodes.filter((n) => n.role === "control-plane");
    expect(controlPlanes).toHaveLength(3);
    const cache = new Map<string, ReturnType<typeof admissionsTo>>();
    for (const cp of controlPlanes) {
      expect(notAdmitted(recorded, cp, nodes, "tcp", 6443, cache)).toEqual([]);
      expect(notAdmitted(recorded, cp, controlPlanes, "tcp", 2379, cache)).toEqual([]);
      // The bootstrap ports stay per node: no source wider than one address but the admin CIDR.
      const wide = cache.get(cp.name)!.filter((a) => a.protocol === "tcp" && a.sources.some((s) => !s.endsWith("/32") && s !== SITE_PINS.adminCidr));
      expect(wide).toEqual([]);
    }
  });

  it("fits the clouds' limits: prefix lists of at most 100 entries, GCP rules within 5,000 ranges, the boot files and the node addresses' secret", () => {
    for (const list of ofType(recorded, "aws:ec2/managedPrefixList:ManagedPrefixList")) expect(list.inputs.entries.length).toBeLessThanOrEqual(100);
    for (const rule of ofType(recorded, "gcp:compute/firewall:Firewall")) expect((rule.inputs.sourceRanges ?? []).length).toBeLessThanOrEqual(5000);
    const aws = instances(recorded).filter((i) => i.type === "aws:ec2/instance:Instance");
    expect(aws).toHaveLength(largest.aws);
    for (const i of aws) expect(Buffer.from(i.inputs.userDataBase64, "base64").length).toBeLessThan(EC2_USER_DATA_LIMIT);
    const documents = bootGuardDocuments(recorded);
    expect(Object.keys(documents).sort()).toEqual(["aws", "gcp"]);
    for (const d of Object.values(documents)) expect(d.match(/ : jump to_/g)).toHaveLength(MAX_NODES);
    const packed = ofType(recorded, "aws:secretsmanager/secretVersion:SecretVersion").find((v) => v.name.endsWith("-boot-guard"))!.inputs
      .secretString as string;
    expect(packed.length).toBeLessThanOrEqual(SECRET_VALUE_LIMIT);
  });
});

describe("the quotas a 1,000-node stack needs", () => {
  it("are refused at the clouds' defaults before anything is registered, naming each quota and number to request", async () => {
    const recorded = await installMocks(projectName, "scale");
    const message = await runProgram("scale", scaleConfig(MAX_NODES, false).config).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(message).toContain(
      `request the AWS quota "EC2-VPC Elastic IPs" (Service Quotas, service code ec2, quota code L-0263D0A3) of at least ${largest.aws}`,
    );
    expect(message).toContain(
      `request the Compute Engine quota "Static IP addresses" (STATIC_ADDRESSES) in europe-west1 for project demo-project-123 of at least ${largest.gcp}`,
    );
    // Nothing else: with WireGuard from anywhere the rules per group stay within the default 60.
    expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(2);
    expect(recorded).toEqual([]);
  });
});

describe("evaluation time by size (printed; timing is not asserted)", () => {
  it("registers 100 and 300 nodes as it does 1,000", async () => {
    const rows: string[] = [];
    for (const total of [100, 300]) {
      const started = process.hrtime.bigint();
      const run = await runProgram("scale", scaleConfig(total).config);
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      expect(underlayNodes(run.recorded)).toHaveLength(total);
      rows.push(`${total} nodes: ${s.toFixed(1)} s`);
    }
    console.log(`[scale] evaluation under the mocks: ${rows.join(", ")} (1,000: see above)`);
  }, 600_000);
});
