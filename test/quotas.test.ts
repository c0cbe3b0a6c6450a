// Resource counts at 3, 30, 50 and 150 nodes per cloud (150 + 150: the node table's MAX_NODES), through the real program under mocks:
// firewall rules stay flat (prefix lists on AWS, one more rule per hundred nodes; many source ranges per GCP rule), and a
// stack that would exceed a quota is rejected before anything is registered, with the
// exact quota to request.
import { installMocks, ofType, type Recorded } from "./pulumiMocks";
import { editConfig, projectName, runProgram, SITE_PINS } from "./stackHarness";

function config(perCloud: number, quotas?: { aws: object; gcp: object }): Record<string, string> {
  const aws = {
    region: "eu-west-1",
    ami: SITE_PINS.ami,
    ...(quotas ? { quotas: quotas.aws } : {}),
    pools: [
      { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a" },
      { name: "w", role: "worker", count: perCloud - 1, machineType: "t3.large", zone: "eu-west-1b" },
    ],
  };
  const gcp = {
    project: "demo-project-123",
    region: "europe-west1",
    image: SITE_PINS.gcpImage,
    ...(quotas ? { quotas: quotas.gcp } : {}),
    pools: [{ name: "w", role: "worker", count: perCloud, machineType: "e2-standard-4", zone: "europe-west1-b" }],
  };
  return {
    [`${projectName}:cluster`]: JSON.stringify({ name: "scale", adminCidrs: [SITE_PINS.adminCidr] }),
    [`${projectName}:preflight`]: JSON.stringify({ skip: ["imagePull"] }),
    [`${projectName}:aws`]: JSON.stringify(aws),
    [`${projectName}:gcp`]: JSON.stringify(gcp),
    [`${projectName}:nodeRouter`]: JSON.stringify({ image: SITE_PINS.agentImage }),
  };
}

/** Quotas raised to what 50 nodes per cloud need. */
const raised = { aws: { rulesPerSecurityGroup: 203, elasticIps: 50 }, gcp: { staticAddresses: 50 } };

describe.each([3, 30, 50])("%i nodes per cloud", (perCloud) => {
  it("keeps firewall rule counts flat, and sizes the prefix lists to the nodes", async () => {
    const run = await runProgram("scale", config(perCloud, raised));
    const aws = ofType(run.recorded, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const gcp = ofType(run.recorded, "gcp:compute/firewall:Firewall");
    // control plane: wireguard, apiserver, etcd, pmtu, admin; worker: wireguard, pmtu.
    expect(aws.map((r) => r.name.replace(/^scale-aws-/, "")).sort()).toEqual([
      "control-plane-admin-apiserver-cidr0",
      "control-plane-apiserver",
      "control-plane-etcd",
      "control-plane-pmtu-cidr0",
      "control-plane-wireguard",
      "worker-pmtu-cidr0",
      "worker-wireguard",
    ]);
    expect(gcp).toHaveLength(2);
    const lists = Object.fromEntries(ofType(run.recorded, "aws:ec2/managedPrefixList:ManagedPrefixList").map((l) => [l.name, l.inputs]));
    expect(lists["scale-aws-nodes"].maxEntries).toBe(2 * perCloud);
    expect(lists["scale-aws-nodes"].entries).toHaveLength(2 * perCloud);
    expect(lists["scale-aws-control-planes"].maxEntries).toBe(1);
    expect(Math.max(...gcp.map((f) => f.inputs.sourceRanges.length))).toBe(2 * perCloud);
    expect(ofType(run.recorded, "aws:ec2/instance:Instance")).toHaveLength(perCloud);
  }, 120_000);
});

describe("150 nodes per cloud (the most the node table takes)", () => {
  it("every AWS prefix list holds at most 100 entries (what EC2 takes per request), and together they admit every node", async () => {
    // A pool holds at most 100 nodes: two worker pools per cloud.
    const c = config(150, { aws: { rulesPerSecurityGroup: 603, elasticIps: 150 }, gcp: { staticAddresses: 150 } });
    const split = (key: string, zone: string, machineType: string, workers: number, subnet: object) => {
      const cloud = JSON.parse(c[key]) as { pools: object[] };
      cloud.pools = [
        ...cloud.pools.slice(0, -1),
        { name: "w", role: "worker", count: 100, machineType, zone },
        { name: "v", role: "worker", count: workers - 100, machineType, zone },
      ];
      c[key] = JSON.stringify({ ...cloud, ...subnet });
    };
    split(`${projectName}:aws`, "eu-west-1b", "t3.large", 149, { subnetCidrs: { "eu-west-1b": "10.10.4.0/22" } });
    split(`${projectName}:gcp`, "europe-west1-b", "e2-standard-4", 150, { subnetCidr: "10.20.4.0/22" });
    const run = await runProgram("scale", c);
    const lists = ofType(run.recorded, "aws:ec2/managedPrefixList:ManagedPrefixList");
    expect(lists.map((l) => [l.name, l.inputs.entries.length, l.inputs.maxEntries]).sort()).toEqual([
      ["scale-aws-control-planes", 1, 1],
      ["scale-aws-nodes", 100, 100],
      ["scale-aws-nodes-part2", 100, 100],
      ["scale-aws-nodes-part3", 100, 100],
    ]);
    const admitted = lists
      .filter((l) => l.name.startsWith("scale-aws-nodes"))
      .flatMap((l) => l.inputs.entries.map((e: { description: string }) => e.description));
    const instances = [...ofType(run.recorded, "aws:ec2/instance:Instance"), ...ofType(run.recorded, "gcp:compute/instance:Instance")];
    expect(instances).toHaveLength(300);
    expect(new Set(admitted).size).toBe(300);
    // WireGuard on every group, and the API on the control planes, from each part.
    const rules = ofType(run.recorded, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.name.replace(/^scale-aws-/, ""));
    for (const rule of ["control-plane-wireguard", "control-plane-apiserver", "worker-wireguard"]) {
      expect(rules.filter((r) => r === rule || r.startsWith(`${rule}-part`)).sort()).toEqual([rule, `${rule}-part2`, `${rule}-part3`]);
    }
  }, 300_000);
});

describe("with the clouds' default quotas", () => {
  it("3 nodes per cloud fit", async () => {
    await expect(runProgram("scale", config(3))).resolves.toBeDefined();
  });

  it.each([
    [30, 123, 30],
    [50, 203, 50],
  ])("%i nodes per cloud are rejected before anything is registered, naming each quota to request", async (perCloud, rules, addresses) => {
    const recorded = await installMocks(projectName, "scale");
    let message = "";
    try {
      await runProgram("scale", config(perCloud));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${projectName}:aws.quotas.rulesPerSecurityGroup: the control-plane security group needs ${rules} inbound rules`);
    expect(message).toContain(
      `request the AWS quota "Inbound or outbound rules per security group" (Service Quotas, service code vpc, quota code L-0EA8095F) of at least ${rules} in eu-west-1, then set ${projectName}:aws.quotas.rulesPerSecurityGroup: ${rules}`,
    );
    expect(message).toContain(`request the AWS quota "EC2-VPC Elastic IPs" (Service Quotas, service code ec2, quota code L-0263D0A3) of at least ${perCloud}`);
    expect(message).toContain(
      `request the Compute Engine quota "Static IP addresses" (STATIC_ADDRESSES) in europe-west1 for project demo-project-123 of at least ${addresses}`,
    );
    expect(recorded).toEqual([]);
  });

  it("counts a prefix list as its max entries, per group", async () => {
    let message = "";
    try {
      await runProgram("scale", config(30));
    } catch (e) {
      message = (e as Error).message;
    }
    // 60 nodes in the list WireGuard admits, plus the ICMP rule.
    expect(message).toContain("the worker security group needs 61 inbound rules (wireguard 60, pmtu-cidr0 1;");
    expect(message).toContain(
      "the control-plane security group needs 123 inbound rules (wireguard 60, apiserver 60, etcd 1, pmtu-cidr0 1, admin-apiserver-cidr0 1;",
    );
  });
});

/** What each AWS security group counts against "rules per security group", read from the registered resources: a referenced prefix list as its max entries, any other rule as one. */
function registeredWeights(recorded: readonly Recorded[]): Record<string, number> {
  const maxEntries = new Map(ofType(recorded, "aws:ec2/managedPrefixList:ManagedPrefixList").map((l) => [l.id, l.inputs.maxEntries as number]));
  const roleOf = new Map(ofType(recorded, "aws:ec2/securityGroup:SecurityGroup").map((g) => [g.id, g.inputs.tags["wg-mesh/role"] as string]));
  const weights: Record<string, number> = {};
  for (const r of ofType(recorded, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
    const role = roleOf.get(r.inputs.securityGroupId)!;
    weights[role] = (weights[role] ?? 0) + (r.inputs.prefixListId !== undefined ? maxEntries.get(r.inputs.prefixListId)! : 1);
  }
  return weights;
}

describe("cluster.wireguardFrom: anywhere (the large-cluster mode), 30 nodes per cloud", () => {
  const anywhere = (c: Record<string, string>) => editConfig(c, "cluster", (v) => (v.wireguardFrom = "anywhere"));

  it("weighs WireGuard as one rule: the default quotas reject 64 rules on the control-plane group (not 123), and none on workers", async () => {
    let message = "";
    try {
      await runProgram("scale", anywhere(config(30)));
    } catch (e) {
      message = (e as Error).message;
    }
    // 6443 from all 60 nodes, then WireGuard, etcd (one control plane), ICMP and the admin CIDR at one each.
    expect(message).toContain(
      `${projectName}:aws.quotas.rulesPerSecurityGroup: the control-plane security group needs 64 inbound rules (wireguard-cidr0 1, apiserver 60, etcd 1, pmtu-cidr0 1, admin-apiserver-cidr0 1;`,
    );
    expect(message).not.toContain("the worker security group");
  });

  it("registers what the arithmetic says: WireGuard from 0.0.0.0/0 on every group and GCP rule, 6443 and etcd from the nodes' lists", async () => {
    const run = await runProgram("scale", anywhere(config(30, { aws: { rulesPerSecurityGroup: 64, elasticIps: 30 }, gcp: { staticAddresses: 30 } })));
    expect(registeredWeights(run.recorded)).toEqual({ "control-plane": 64, worker: 2 });
    const aws = Object.fromEntries(
      ofType(run.recorded, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => [r.name.replace(/^scale-aws-/, ""), r.inputs]),
    );
    expect(Object.keys(aws).sort()).toEqual([
      "control-plane-admin-apiserver-cidr0",
      "control-plane-apiserver",
      "control-plane-etcd",
      "control-plane-pmtu-cidr0",
      "control-plane-wireguard-cidr0",
      "worker-pmtu-cidr0",
      "worker-wireguard-cidr0",
    ]);
    for (const role of ["control-plane", "worker"]) {
      expect(aws[`${role}-wireguard-cidr0`]).toMatchObject({ ipProtocol: "udp", fromPort: 51871, toPort: 51871, cidrIpv4: "0.0.0.0/0" });
      expect(aws[`${role}-wireguard-cidr0`].prefixListId).toBeUndefined();
    }
    const lists = Object.fromEntries(ofType(run.recorded, "aws:ec2/managedPrefixList:ManagedPrefixList").map((l) => [l.id, l.name]));
    expect(lists[aws["control-plane-apiserver"].prefixListId]).toBe("scale-aws-nodes");
    expect(lists[aws["control-plane-etcd"].prefixListId]).toBe("scale-aws-control-planes");
    const gcp = ofType(run.recorded, "gcp:compute/firewall:Firewall");
    expect(gcp.map((f) => [f.inputs.name, f.inputs.allows, f.inputs.sourceRanges]).sort()).toEqual([
      ["scale-worker-pmtu", [{ protocol: "icmp" }], ["0.0.0.0/0"]],
      ["scale-worker-wireguard", [{ protocol: "udp", ports: ["51871"] }], ["0.0.0.0/0"]],
    ]);
  }, 120_000);
});
