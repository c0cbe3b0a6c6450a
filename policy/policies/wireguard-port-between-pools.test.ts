import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { awsWireguard, baseline, get, largeClusterBaseline } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { wireguardPortBetweenPools as policy } from "./wireguard-port-between-pools";

type Rule = Record<string, unknown>;
const ingress = (s: FixtureResource[], sg: string) => get(s, sg).props.ingress as Rule[];
const messages = async (s: FixtureResource[], config = {}) => (await runStackPolicy(policy, s, config)).violations.map((v) => v.message);
const dropSource = (s: FixtureResource[], sg: string, cidr: string) => {
  const r = ingress(s, sg)[0];
  r.cidrBlocks = (r.cidrBlocks as string[]).filter((c) => c !== cidr);
  return s;
};

describe("wireguard-port-between-pools", () => {
  it("passes when every node admits UDP 51871 from every other node's address", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects a node address missing from a group, naming the pool, its nodes and the sender", async () => {
    const out = await runStackPolicy(policy, dropSource(baseline(), "wgmesh-worker", "198.51.100.10/32"));
    expect(out.violations).toHaveLength(1);
    expect(out.violations[0]).toMatchObject({
      urn: get(baseline(), "wgmesh-worker").urn,
      message: expect.stringMatching(
        /not admitted into security group 'wgmesh-worker' .*\(node 'wgmesh-aws-worker-0'\) from 'wgmesh-aws-cp-0' \(198\.51\.100\.10\)/,
      ),
    });
  });

  it("rejects a missing path from the other cloud", async () => {
    const s = baseline();
    const fw = get(s, "wgmesh-gcp-worker");
    fw.props.sourceRanges = (fw.props.sourceRanges as string[]).filter((c) => !c.startsWith("198.51"));
    expect(await messages(s)).toEqual([
      expect.stringMatching(/into GCP nodes tagged 'wgmesh-worker' .* from 'wgmesh-aws-cp-0' \(198\.51\.100\.10\), 'wgmesh-aws-worker-0'/),
    ]);
  });

  it("does not count self, security-group references or GCP tags: nodes reach each other from public addresses", async () => {
    const s = baseline();
    ingress(s, "wgmesh-worker")[0] = {
      protocol: "udp",
      fromPort: 51871,
      toPort: 51871,
      self: true,
      securityGroups: ["sg-0cp00000000000001"],
      cidrBlocks: ["192.0.2.10/32", "192.0.2.11/32"],
    };
    // The GCP worker firewall keeps sourceTags [control-plane, worker] but loses the control plane's address.
    const fw = get(s, "wgmesh-gcp-worker");
    fw.props.sourceRanges = ["198.51.100.10/32", "198.51.100.11/32"];
    const text = (await messages(s)).join("\n");
    expect(text).toMatch(/into security group 'wgmesh-worker' .* from 'wgmesh-aws-cp-0' \(198\.51\.100\.10\)/);
    expect(text).toMatch(/into GCP nodes tagged 'wgmesh-worker' .* from 'wgmesh-gcp-cp-0' \(192\.0\.2\.10\)/);
  });

  it("counts them with peerAddresses: private (nodes in one VPC network)", async () => {
    const s = baseline();
    ingress(s, "wgmesh-worker")[0] = {
      protocol: "udp",
      fromPort: 51871,
      toPort: 51871,
      self: true,
      securityGroups: ["sg-0cp00000000000001"],
      cidrBlocks: ["10.20.1.0/24"],
    };
    ingress(s, "wgmesh-control-plane")[0] = {
      protocol: "udp",
      fromPort: 51871,
      toPort: 51871,
      self: true,
      securityGroups: ["sg-0wk00000000000002"],
      cidrBlocks: ["10.20.1.0/24"],
    };
    for (const f of ["wgmesh-gcp-worker", "wgmesh-gcp-control-plane"]) get(s, f).props.sourceRanges = ["10.10.1.0/24"];
    expect(await runStackPolicy(policy, s, { peerAddresses: "private" })).toEqual({ violations: [] });
    expect((await messages(s)).length).toBeGreaterThan(0);
  });

  it("resolves a managed prefix list in the stack (entries and entry resources) and says it cannot see one outside", async () => {
    const s = baseline();
    ingress(s, "wgmesh-worker")[0] = { protocol: "udp", fromPort: 51871, toPort: 51871, prefixListIds: ["pl-nodes"] };
    s.push({
      type: "aws:ec2/managedPrefixList:ManagedPrefixList",
      name: "nodes",
      urn: "urn:pulumi:dev::p::aws:ec2/managedPrefixList:ManagedPrefixList::nodes",
      props: { id: "pl-nodes", entries: [{ cidr: "198.51.100.10/32" }, { cidr: "192.0.2.10/32" }] },
    });
    s.push({
      type: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
      name: "gcp-w",
      urn: "urn:pulumi:dev::p::aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry::gcp-w",
      props: { prefixListId: "pl-nodes", cidr: "192.0.2.11/32" },
    });
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
    ingress(s, "wgmesh-worker")[0].prefixListIds = ["pl-other-stack"];
    const out = await runStackPolicy(policy, s);
    expect(out.unchecked).toContain("the entries of prefix list pl-other-stack (not in this stack)");
  });

  it("follows a rule's prefix list through its dependency while the list's id is unknown (vpc.SecurityGroupIngressRule)", async () => {
    const s = baseline();
    ingress(s, "wgmesh-worker").splice(0, 1);
    const list = {
      type: "aws:ec2/managedPrefixList:ManagedPrefixList",
      name: "nodes",
      urn: "urn:pulumi:dev::p::aws:ec2/managedPrefixList:ManagedPrefixList::nodes",
      props: {
        id: UNKNOWN_SENTINEL,
        entries: [{ cidr: "198.51.100.10/32" }, { cidr: "198.51.100.11/32" }, { cidr: "192.0.2.10/32" }, { cidr: "192.0.2.11/32" }],
      },
    };
    const rule = {
      type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      name: "wg",
      urn: "urn:pulumi:dev::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::wg",
      props: { securityGroupId: "sg-0wk00000000000002", ipProtocol: "udp", fromPort: 51871, toPort: 51871, prefixListId: UNKNOWN_SENTINEL },
      propertyDependencies: { prefixListId: [list.urn] },
    };
    expect(await runStackPolicy(policy, [...s, list, rule])).toEqual({ violations: [] });
    list.props.entries = list.props.entries.slice(1);
    expect((await messages([...s, list, rule])).join()).toContain("from 'wgmesh-aws-cp-0' (198.51.100.10)");
  });

  it("reports rules and addresses unknown at preview as unchecked instead of as closed", async () => {
    const s = baseline();
    ingress(s, "wgmesh-worker")[0].cidrBlocks = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining("ingress[0].cidrBlocks of 'wgmesh-worker'") });
    const t = baseline();
    get(t, "wgmesh-gcp-worker-0-ip").props.address = UNKNOWN_SENTINEL;
    (get(t, "wgmesh-gcp-worker-0").props.networkInterfaces as any)[0].accessConfigs[0].natIp = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, t)).toMatchObject({ violations: [], unchecked: expect.stringContaining("the address of 'wgmesh-gcp-worker-0'") });
  });

  it("follows a configured WireGuard port, and has nothing to check without nodes", async () => {
    expect((await messages(baseline(), { wireguardPort: 51820 })).length).toBe(4); // every pool misses every sender
    expect(
      await runStackPolicy(
        policy,
        baseline().filter((r) => !/Instance$/.test(r.type)),
      ),
    ).toEqual({ violations: [] });
  });
});

describe("wireguard-port-between-pools: the large-cluster mode (issue 24)", () => {
  it("passes every node admitting UDP 51871 from 0.0.0.0/0: every IPv4 peer is in it", async () => {
    expect(await runStackPolicy(policy, largeClusterBaseline())).toEqual({ violations: [] });
  });

  it("does not count ::/0 for IPv4 peers", async () => {
    const s = largeClusterBaseline();
    awsWireguard(s, "wgmesh-worker").cidrBlocks = [];
    awsWireguard(s, "wgmesh-worker").ipv6CidrBlocks = ["::/0"];
    expect(await messages(s)).toEqual([
      expect.stringMatching(/not admitted into security group 'wgmesh-worker' .*from 'wgmesh-aws-cp-0' \(198\.51\.100\.10\), 'wgmesh-gcp-cp-0'/),
    ]);
  });
});
