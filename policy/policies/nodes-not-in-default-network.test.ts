import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodesNotInDefaultNetwork as policy } from "./nodes-not-in-default-network";

type Obj = Record<string, any>;
const resource = (type: string, name: string, props: Obj, extra: Partial<FixtureResource> = {}): FixtureResource => ({
  type,
  name,
  urn: `urn:pulumi:dev::wg-mesh-cluster::${type}::${name}`,
  props,
  ...extra,
});
const messages = async (s: FixtureResource[]) => (await runStackPolicy(policy, s)).violations.map((v) => v.message);
const withVpc = () => {
  const s = baseline();
  s.push(resource("aws:ec2/vpc:Vpc", "vpc", { id: "vpc-1", cidrBlock: "10.10.0.0/16", defaultSecurityGroupId: "sg-default" }));
  return s;
};

describe("nodes-not-in-default-network", () => {
  it("passes the baseline (nodes in the stack's groups and network)", async () => {
    expect(await runStackPolicy(policy, withVpc())).toEqual({ violations: [] });
  });

  it("rejects a worker that also joins the VPC's default security group, naming the node and the field", async () => {
    const s = withVpc();
    (get(s, "wgmesh-aws-worker-0").props.vpcSecurityGroupIds as string[]).push("sg-default");
    const ms = await messages(s);
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatch(
      /^'wgmesh-aws-worker-0' \(urn:.*\): vpcSecurityGroupIds of 'wgmesh-aws-worker-0' .* includes the VPC's default security group sg-default/,
    );
  });

  it("rejects a worker network interface in a DefaultSecurityGroup, by id and by dependency at preview", async () => {
    const eni = (groups: unknown, deps: string[] = []) => {
      const s = baseline();
      s.push(resource("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", { id: "sg-def2", vpcId: "vpc-1" }));
      s.push(
        resource(
          "aws:ec2/networkInterface:NetworkInterface",
          "worker-eni",
          { id: "eni-1", securityGroups: groups, tags: { "wg-mesh/role": "worker" } },
          { propertyDependencies: { securityGroups: deps } },
        ),
      );
      const w = get(s, "wgmesh-aws-worker-0");
      delete w.props.vpcSecurityGroupIds;
      w.props.primaryNetworkInterface = { networkInterfaceId: "eni-1" };
      return s;
    };
    expect(await messages(eni(["sg-0wk00000000000002", "sg-def2"]))).toEqual([expect.stringContaining("securityGroups of 'worker-eni'")]);
    expect(
      await messages(eni([UNKNOWN_SENTINEL], ["urn:pulumi:dev::wg-mesh-cluster::aws:ec2/defaultSecurityGroup:DefaultSecurityGroup::default-sg"])),
    ).toHaveLength(1);
    expect(await messages(eni(["sg-0wk00000000000002"]))).toEqual([]);
  });

  it("reports a group list that depends on a VPC while unknown as unchecked, not guessed", async () => {
    const s = withVpc();
    const w = get(s, "wgmesh-aws-worker-0");
    w.props.vpcSecurityGroupIds = [UNKNOWN_SENTINEL];
    w.propertyDependencies = { vpcSecurityGroupIds: ["urn:pulumi:dev::wg-mesh-cluster::aws:ec2/vpc:Vpc::vpc"] };
    expect(await runStackPolicy(policy, s)).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("vpcSecurityGroupIds of 'wgmesh-aws-worker-0'"),
    });
  });

  it("rejects a node that names no security group (AWS puts it in the default group)", async () => {
    const s = baseline();
    delete get(s, "wgmesh-aws-worker-0").props.vpcSecurityGroupIds;
    expect(await messages(s)).toEqual([expect.stringContaining("AWS puts it in the VPC's default security group")]);
  });

  it("rejects a GCP node in the default network: by name, by its default subnetwork, or with no network", async () => {
    for (const ni of [
      { network: "default" },
      { network: "projects/p/global/networks/default" },
      { subnetwork: "projects/p/regions/r/subnetworks/default" },
      {},
    ]) {
      const s = baseline();
      get(s, "wgmesh-gcp-worker-0").props.networkInterfaces = [{ ...ni, accessConfigs: [{ natIp: "192.0.2.11" }] }];
      expect({ ni, ms: await messages(s) }).toEqual({
        ni,
        ms: [expect.stringMatching(/^'wgmesh-gcp-worker-0' \(urn:.*\): networkInterfaces puts it in the 'default' network/)],
      });
    }
  });

  it("does not judge a bastion (no role tag) in the default group or network", async () => {
    const s = withVpc();
    s.push(resource("aws:ec2/instance:Instance", "bastion", { id: "i-b", vpcSecurityGroupIds: ["sg-default"], tags: { Name: "bastion" } }));
    s.push(resource("gcp:compute/instance:Instance", "gcp-bastion", { tags: ["ssh"], networkInterfaces: [{ network: "default" }] }));
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });
});
