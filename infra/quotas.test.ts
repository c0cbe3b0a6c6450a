// The quota arithmetic on its own (checkQuotas, on the parsed config: no program run for
// thousands of nodes): what each mode of cluster.wireguardFrom weighs, and which fix a limit that
// no quota request raises names.
import { stackConfigSchema } from "./configSchema";
import { stackNodes } from "./model";
import { AWS_MAX_RULES_PER_INTERFACE, checkQuotas, GCP_MAX_SOURCE_RANGES } from "./quotas";
import { TEST_IMAGE } from "../test/fixtures/images";

const key = (path: readonly PropertyKey[]) => `proj:${path.map(String).join(".")}`;
/** `workers` worker nodes in pools of at most 100 (the schema's largest pool), after `controlPlanes` control planes. */
const pools = (controlPlanes: number, workers: number, zone: string) => [
  { name: "cp", role: "control-plane", count: controlPlanes, machineType: "m", zone },
  ...Array.from({ length: Math.ceil(workers / 100) }, (_, i) => ({
    name: `w${i}`,
    role: "worker",
    count: Math.min(100, workers - 100 * i),
    machineType: "m",
    zone,
  })),
];
function check(cloud: "aws" | "gcp", workers: number, wireguardFrom?: string, quotas: object = {}): string[] {
  const config = stackConfigSchema.parse({
    cluster: { name: "big", adminCidrs: ["100.64.7.0/24"], ...(wireguardFrom ? { wireguardFrom } : {}) },
    nodeRouter: { image: TEST_IMAGE },
    ...(cloud === "aws"
      ? { aws: { region: "eu-west-1", ami: "ami-0abcdef1234567890", quotas, pools: pools(1, workers, "eu-west-1a") } }
      : {
          gcp: { project: "demo-project-123", region: "europe-west1", image: "projects/p/global/images/i", quotas, pools: pools(1, workers, "europe-west1-b") },
        }),
  });
  return checkQuotas(config, stackNodes(config), key);
}
const rules = (problems: string[], role: string) => problems.find((p) => p.includes(`the ${role} security group needs`));

describe("checkQuotas: AWS rules per security group", () => {
  const raised = { rulesPerSecurityGroup: 1000, elasticIps: 2000 };

  it("per node, 500 nodes pass the 1,000 rules one interface allows on the control-plane group, and the fix named is wireguardFrom: anywhere", () => {
    // WireGuard 500, 6443 500, etcd 1, ICMP 1, admin 1.
    const message = rules(check("aws", 499, undefined, raised), "control-plane");
    expect(message).toContain(
      `proj:aws.quotas.rulesPerSecurityGroup: the control-plane security group needs 1003 inbound rules (wireguard 100, wireguard-part2 100, wireguard-part3 100, wireguard-part4 100, wireguard-part5 100, apiserver 100,`,
    );
    expect(message).toContain(
      `more than AWS allows on one network interface (${AWS_MAX_RULES_PER_INTERFACE}, not adjustable); set proj:cluster.wireguardFrom: anywhere (WireGuard from 0.0.0.0/0 weighs 1 rule instead of 500: 504 in all)`,
    );
    expect(rules(check("aws", 499, undefined, raised), "worker")).toBeUndefined(); // 501
  });

  it("from anywhere, WireGuard weighs 1: the same 500 nodes need 504 rules on control planes and 2 on workers", () => {
    expect(check("aws", 499, "anywhere", raised)).toEqual([]);
    expect(rules(check("aws", 499, "anywhere", { rulesPerSecurityGroup: 503, elasticIps: 2000 }), "control-plane")).toContain(
      "the control-plane security group needs 504 inbound rules (wireguard-cidr0 1, apiserver 100,",
    );
    expect(check("aws", 499, "anywhere", { rulesPerSecurityGroup: 504, elasticIps: 2000 })).toEqual([]);
    expect(rules(check("aws", 499, "anywhere", { rulesPerSecurityGroup: 1, elasticIps: 2000 }), "worker")).toContain(
      "the worker security group needs 2 inbound rules (wireguard-cidr0 1, pmtu-cidr0 1;",
    );
  });

  it("says fewer nodes as well when WireGuard from anywhere would not be enough", () => {
    // 1,000 nodes: 2,003 per node, 1,004 from anywhere.
    expect(rules(check("aws", 999, undefined, raised), "control-plane")).toContain(
      "set proj:cluster.wireguardFrom: anywhere (WireGuard from 0.0.0.0/0 weighs 1 rule instead of 1000: 1004 in all, still too many: use fewer nodes as well)",
    );
    expect(rules(check("aws", 999, "anywhere", raised), "control-plane")).toMatch(/needs 1004 inbound rules .*\(1000, not adjustable\); use fewer nodes$/);
  });

  it("keeps the quota request message when only the configured quota is short", () => {
    const message = rules(check("aws", 29, undefined, { elasticIps: 30 }), "control-plane");
    expect(message).toContain("the control-plane security group needs 63 inbound rules");
    expect(message).toContain("request the AWS quota");
    expect(message).not.toContain("wireguardFrom");
  });
});

describe("checkQuotas: GCP source ranges per rule", () => {
  const raised = { staticAddresses: 6000 };
  const ranges = (problems: string[], intent: string) => problems.filter((p) => p.includes(`the ${intent} firewall rule would need`));

  it("per node, past 5,000 nodes WireGuard's rules name wireguardFrom: anywhere, 6443's fewer nodes", () => {
    const problems = check("gcp", GCP_MAX_SOURCE_RANGES, undefined, raised);
    // One WireGuard rule per role, each from every node.
    expect(ranges(problems, "wireguard")).toEqual([
      `proj:gcp.pools: the wireguard firewall rule would need 5001 source ranges, more than a GCP firewall rule may hold (${GCP_MAX_SOURCE_RANGES}, a system limit that cannot be raised); set proj:cluster.wireguardFrom: anywhere (WireGuard from 0.0.0.0/0: one source range)`,
      expect.stringContaining("set proj:cluster.wireguardFrom: anywhere"),
    ]);
    expect(ranges(problems, "apiserver")).toEqual([expect.stringMatching(/the apiserver firewall rule would need 5001 source ranges, .*; use fewer nodes$/)]);
  });

  it("from anywhere, WireGuard is one source range; 6443 still counts every node", () => {
    const problems = check("gcp", GCP_MAX_SOURCE_RANGES, "anywhere", raised);
    expect(ranges(problems, "wireguard")).toEqual([]);
    expect(ranges(problems, "apiserver")).toHaveLength(1);
    expect(check("gcp", GCP_MAX_SOURCE_RANGES - 1, "anywhere", raised)).toEqual([]);
  });
});
