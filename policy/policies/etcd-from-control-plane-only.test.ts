import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { etcdFromControlPlaneOnly as policy } from "./etcd-from-control-plane-only";

type Rule = Record<string, unknown>;
const cpIngress = (s: FixtureResource[]) => get(s, "wgmesh-control-plane").props.ingress as Rule[];
const etcdRule = (rule: Rule) => {
  const s = baseline();
  cpIngress(s).push({ protocol: "tcp", fromPort: 2379, toPort: 2380, ...rule });
  return s;
};
const messages = async (s: FixtureResource[]) => (await runStackPolicy(policy, s)).violations.map((v) => v.message).join("\n");

describe("etcd-from-control-plane-only", () => {
  it("passes etcd from control-plane addresses, self on the control-plane group and the control-plane tag", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects 0.0.0.0/0, ::/0 and broad private ranges", async () => {
    for (const cidrs of [{ cidrBlocks: ["0.0.0.0/0"] }, { ipv6CidrBlocks: ["::/0"] }, { cidrBlocks: ["10.0.0.0/8"] }]) {
      expect({ cidrs, text: await messages(etcdRule(cidrs)) }).toEqual({
        cidrs,
        text: expect.stringMatching(/admits etcd \(TCP 2379-2380\) from the range .*etcd must never be reachable from outside the control plane/),
      });
    }
  });

  it("rejects a worker's address, a worker group and a worker tag, naming them", async () => {
    expect(await messages(etcdRule({ cidrBlocks: ["198.51.100.11/32"] }))).toContain("the address of non-control-plane node 'wgmesh-aws-worker-0'");
    expect(await messages(etcdRule({ securityGroups: ["sg-0wk00000000000002"] }))).toContain("security group 'wgmesh-worker'");
    const gcp = baseline();
    (get(gcp, "wgmesh-gcp-etcd").props.sourceTags as string[]).push("wgmesh-worker");
    expect(await messages(gcp)).toContain("tag 'wgmesh-worker'");
  });

  it("rejects protocol all (it includes etcd) and an address that is no node's", async () => {
    expect(await messages(etcdRule({ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["203.0.113.9/32"] }))).toContain(
      "203.0.113.9/32, which is no node's address",
    );
  });

  it("resolves a prefix list in the stack, and says it cannot see one outside", async () => {
    const s = etcdRule({ prefixListIds: ["pl-etcd"] });
    s.push({
      type: "aws:ec2/managedPrefixList:ManagedPrefixList",
      name: "etcd-peers",
      urn: "urn:pulumi:dev::p::aws:ec2/managedPrefixList:ManagedPrefixList::etcd-peers",
      props: { id: "pl-etcd", entries: [{ cidr: "198.51.100.10/32" }, { cidr: "192.0.2.11/32" }] },
    });
    expect(await messages(s)).toContain("192.0.2.11/32 (in prefix list 'etcd-peers'), the address of non-control-plane node 'wgmesh-gcp-worker-0'");
    const out = await runStackPolicy(policy, etcdRule({ prefixListIds: ["pl-elsewhere"] }));
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("the entries of prefix list pl-elsewhere (not in this stack)") });
  });

  it("reports sources unknown at preview as unchecked, naming what they are computed from", async () => {
    const s = baseline();
    s.push({
      type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      name: "etcd-x",
      urn: "urn:pulumi:dev::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::etcd-x",
      props: { securityGroupId: "sg-0cp00000000000001", ipProtocol: "tcp", fromPort: 2379, toPort: 2380, cidrIpv4: UNKNOWN_SENTINEL },
      propertyDependencies: { cidrIpv4: [get(s, "wgmesh-aws-cp-0-ip").urn] },
    });
    const out = await runStackPolicy(policy, s);
    expect(out).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining(
        "cidrIpv4 of 'etcd-x' (urn:pulumi:dev::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::etcd-x) (computed from wgmesh-aws-cp-0-ip)",
      ),
    });
  });
});
