import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { awsWireguard, baseline, get, largeClusterBaseline } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { underlayFirewallRules as policy } from "./underlay-firewall-rules";

type Rule = Record<string, unknown>;
const addInline = (s: FixtureResource[], sg: string, rule: Rule) => {
  (get(s, sg).props.ingress as Rule[]).push(rule);
  return s;
};
const resource = (type: string, name: string, props: Rule, extra: Partial<FixtureResource> = {}): FixtureResource => ({
  type,
  name,
  urn: `urn:pulumi:dev::wg-mesh-cluster::${type}::${name}`,
  props,
  ...extra,
});
const messages = async (s: FixtureResource[], config = {}) => (await runStackPolicy(policy, s, config)).violations.map((v) => v.message).join("\n");

describe("underlay-firewall-rules", () => {
  it("passes the compliant firewalls of both clouds", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects protocol -1 between nodes, naming the group and the rule", async () => {
    const { violations } = await runStackPolicy(policy, addInline(baseline(), "wgmesh-worker", { protocol: "-1", fromPort: 0, toPort: 0, self: true }));
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/'wgmesh-worker' \(urn:.*\) ingress\[2\]: admits every protocol and port .*from the group itself/);
  });

  it("rejects TCP 10250 (kubelet) and SSH between nodes", async () => {
    expect(await messages(addInline(baseline(), "wgmesh-worker", { protocol: "tcp", fromPort: 10250, toPort: 10250, self: true }))).toContain(
      "admits TCP 10250",
    );
    expect(await messages(addInline(baseline(), "wgmesh-control-plane", { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }))).toContain(
      "TCP 22 (SSH between nodes is never allowed)",
    );
  });

  it("rejects port ranges that include more than the bootstrap ports, listing only the extra ports", async () => {
    expect(await messages(addInline(baseline(), "wgmesh-control-plane", { protocol: "tcp", fromPort: 2379, toPort: 2400, self: true }))).toContain(
      "admits TCP 2381-2400",
    );
  });

  it("rejects bootstrap ports towards a group not known to be control-plane", async () => {
    const text = await messages(addInline(baseline(), "wgmesh-worker", { protocol: "tcp", fromPort: 6443, toPort: 6443, self: true }));
    expect(text).toContain("tag the target wg-mesh/role=control-plane");
  });

  it("rejects UDP other than WireGuard and non-TCP/UDP/ICMP protocols", async () => {
    expect(await messages(addInline(baseline(), "wgmesh-worker", { protocol: "udp", fromPort: 51820, toPort: 51871, self: true }))).toContain(
      "UDP 51820-51870",
    );
    expect(await messages(addInline(baseline(), "wgmesh-worker", { protocol: "50", fromPort: 0, toPort: 0, self: true }))).toContain("protocol 50");
  });

  it("checks standalone AWS rules and GCP firewalls", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroupRule:SecurityGroupRule", "kubelet", {
        type: "ingress",
        securityGroupId: "sg-0wk00000000000002",
        protocol: "tcp",
        fromPort: 10250,
        toPort: 10250,
        sourceSecurityGroupId: "sg-0cp00000000000001",
      }),
    );
    s.push(
      resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "nodeports", {
        securityGroupId: "sg-0wk00000000000002",
        ipProtocol: "tcp",
        fromPort: 30000,
        toPort: 32767,
        cidrIpv4: "0.0.0.0/0",
      }),
    );
    (get(s, "wgmesh-gcp-worker").props.allows as Rule[]).push({ protocol: "tcp" });
    const { violations } = await runStackPolicy(policy, s);
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/'wgmesh-gcp-worker' .*allows\[2\]: admits TCP 0-65535 .*from 198\.51\.100\.10\/32.*tag wgmesh-worker/),
      expect.stringMatching(/'kubelet' .*admits TCP 10250 from security group sg-0cp/),
      expect.stringMatching(/'nodeports' .*admits TCP 30000-32767 from 0\.0\.0\.0\/0/),
    ]);
  });

  it("ignores egress rules, disabled or egress GCP firewalls, and groups that guard no node", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroupRule:SecurityGroupRule", "egress-all", {
        type: "egress",
        securityGroupId: "sg-0wk00000000000002",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["0.0.0.0/0"],
      }),
    );
    s.push(resource("gcp:compute/firewall:Firewall", "off", { disabled: true, allows: [{ protocol: "all" }] }));
    s.push(resource("gcp:compute/firewall:Firewall", "out", { direction: "EGRESS", allows: [{ protocol: "all" }] }));
    s.push(resource("gcp:compute/firewall:Firewall", "bastion", { targetTags: ["bastion"], allows: [{ protocol: "tcp", ports: ["22"] }] }));
    s.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "alb", {
        id: "sg-alb",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    );
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });

  it("treats untagged groups attached to nodes, untargeted GCP firewalls and unknown groups as node firewalls", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "extra", {
        id: "sg-extra",
        ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["10.0.0.0/16"] }],
      }),
    );
    (get(s, "wgmesh-aws-worker-0").props.vpcSecurityGroupIds as string[]).push("sg-extra");
    s.push(resource("gcp:compute/firewall:Firewall", "all-instances", { sourceRanges: ["10.128.0.0/9"], allows: [{ protocol: "tcp", ports: ["8080"] }] }));
    s.push(
      resource("aws:ec2/securityGroupRule:SecurityGroupRule", "elsewhere", {
        type: "ingress",
        securityGroupId: "sg-not-in-stack",
        protocol: "tcp",
        fromPort: 6443,
        toPort: 6443,
        self: true,
      }),
    );
    const text = await messages(s);
    expect(text).toContain("'extra'");
    expect(text).toContain("'all-instances'");
    expect(text).toMatch(/'elsewhere'.*tag the target/);
  });

  it("lets admin CIDRs reach adminPorts only", async () => {
    const s = addInline(baseline(), "wgmesh-worker", { protocol: "tcp", fromPort: 6443, toPort: 6443, cidrBlocks: ["203.0.113.7/32"] });
    expect(await messages(s)).toContain("TCP 6443");
    expect(await runStackPolicy(policy, s, { adminCidrs: ["203.0.113.0/24"] })).toEqual({ violations: [] });
    const ssh = addInline(baseline(), "wgmesh-worker", { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.7/32"] });
    expect(await messages(ssh, { adminCidrs: ["203.0.113.0/24"] })).toContain("TCP 22");
    expect(await runStackPolicy(policy, ssh, { adminCidrs: ["203.0.113.0/24"], adminPorts: ["22", "6443"] })).toEqual({ violations: [] });
  });

  it("resolves a rule's target group through property dependencies when its id is unknown", async () => {
    const s = baseline();
    const cp = get(s, "wgmesh-control-plane");
    s.push(
      resource(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "etcd",
        { type: "ingress", securityGroupId: UNKNOWN_SENTINEL, protocol: "tcp", fromPort: 2379, toPort: 2380, self: true },
        { propertyDependencies: { securityGroupId: [cp.urn] } },
      ),
    );
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });

  it("decides from known structure and reports unknown ports as unchecked", async () => {
    const s = addInline(baseline(), "wgmesh-worker", { protocol: "tcp", fromPort: UNKNOWN_SENTINEL, toPort: UNKNOWN_SENTINEL, self: true });
    addInline(s, "wgmesh-worker", { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: UNKNOWN_SENTINEL });
    const out = await runStackPolicy(policy, s);
    expect(out.violations).toHaveLength(1); // protocol all is decidable whatever the sources
    expect(out.unchecked).toMatch(/the ports of 'wgmesh-worker' .*ingress\[2\] is unknown at preview/);
  });
});

describe("underlay-firewall-rules: firewalls it did not read before", () => {
  const worker = (s: FixtureResource[]) => get(s, "wgmesh-aws-worker-0");

  it("reads a default security group, which guards an instance that names no group", async () => {
    const s = baseline();
    delete worker(s).props.vpcSecurityGroupIds;
    s.push(
      resource("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {
        id: "sg-default",
        vpcId: "vpc-0123",
        ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }],
      }),
    );
    expect(await messages(s)).toMatch(/'default' .*ingress\[0\]: admits every protocol and port/);
    const named = baseline();
    named.push(resource("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", { id: "sg-default", ingress: [{ protocol: "-1", self: true }] }));
    expect(await runStackPolicy(policy, named)).toEqual({ violations: [] }); // every instance names its own group
  });

  it("reads inline rules of a group attached to a node through a network interface", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "eni-sg", {
        id: "sg-eni",
        ingress: [{ protocol: "tcp", fromPort: 10250, toPort: 10250, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    );
    s.push(resource("aws:ec2/networkInterface:NetworkInterface", "eni", { id: "eni-1", securityGroups: ["sg-eni"] }));
    worker(s).props.primaryNetworkInterface = { networkInterfaceId: "eni-1" };
    expect(await messages(s)).toMatch(/'eni-sg' .*admits TCP 10250/);
    const attached = baseline();
    attached.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "eni-sg", {
        id: "sg-eni",
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    );
    attached.push(resource("aws:ec2/networkInterface:NetworkInterface", "eni", { id: "eni-2" }));
    attached.push(
      resource("aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment", "att", {
        instanceId: worker(attached).props.id,
        networkInterfaceId: "eni-2",
        deviceIndex: 1,
      }),
    );
    attached.push(
      resource("aws:ec2/networkInterfaceSecurityGroupAttachment:NetworkInterfaceSecurityGroupAttachment", "sga", {
        networkInterfaceId: "eni-2",
        securityGroupId: "sg-eni",
      }),
    );
    expect(await messages(attached)).toContain("TCP 22 (SSH between nodes is never allowed)");
  });

  it("reads GCP network firewall policy rules (standalone and inline), skipping deny, goto_next, egress and disabled ones", async () => {
    const s = baseline();
    s.push(
      resource("gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule", "allow-kubelet", {
        action: "allow",
        direction: "INGRESS",
        priority: 1000,
        match: { srcIpRanges: ["10.0.0.0/8"], layer4Configs: [{ ipProtocol: "tcp", ports: ["10250"] }] },
      }),
    );
    s.push(
      resource("gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules", "policy", {
        rules: [
          { action: "allow", direction: "INGRESS", priority: 10, match: { srcFqdns: ["example.com"], layer4Configs: [{ ipProtocol: "all" }] } },
          { action: "deny", direction: "INGRESS", priority: 11, match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "all" }] } },
          { action: "goto_next", direction: "INGRESS", priority: 12, match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "all" }] } },
          { action: "allow", direction: "EGRESS", priority: 13, match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "all" }] } },
          {
            action: "allow",
            direction: "INGRESS",
            disabled: true,
            priority: 14,
            match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "all" }] },
          },
        ],
      }),
    );
    const { violations } = await runStackPolicy(policy, s);
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/'allow-kubelet' .*match\.layer4Configs\[0\]: admits TCP 10250 from 10\.0\.0\.0\/8/),
      expect.stringMatching(/'policy' .*rules\[0\]\.match\.layer4Configs\[0\]: admits every protocol .*from FQDN example\.com/),
    ]);
  });

  it("reads a security group the stack reads back (a reused VPC's group via .get) when nodes use it", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "existing", {
        id: "sg-existing",
        ingress: [{ protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["10.0.0.0/8"] }],
      }),
    );
    (worker(s).props.vpcSecurityGroupIds as string[]).push("sg-existing");
    expect(await messages(s)).toMatch(/'existing' .*admits TCP 0-65535/);
  });

  it("leaves GCP's default network to nodes-not-in-default-network (a mandatory violation there)", async () => {
    const s = baseline();
    get(s, "wgmesh-gcp-worker-0").props.networkInterfaces = [{ network: "default", accessConfigs: [{ natIp: "192.0.2.11" }] }];
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });
});

describe("underlay-firewall-rules: only what guards nodes (issue 23, class 8)", () => {
  it("passes a target-less IAP SSH rule in a separate network with no nodes, and judges the same rule in the nodes' network", async () => {
    const iap = (network: string) =>
      resource("gcp:compute/firewall:Firewall", "iap-ssh", {
        network,
        direction: "INGRESS",
        sourceRanges: ["35.235.240.0/20"],
        allows: [{ protocol: "tcp", ports: ["22"] }],
      });
    const separate = baseline();
    separate.push(
      resource("gcp:compute/network:Network", "tools", { name: "tools", id: "projects/p/global/networks/tools" }),
      iap("projects/p/global/networks/tools"),
    );
    expect(await runStackPolicy(policy, separate)).toEqual({ violations: [] });
    const same = baseline();
    same.push(iap("wgmesh"));
    expect(await messages(same)).toMatch(/'iap-ssh' .*allows\[0\].*TCP 22/);
  });

  it("resolves a node's network through its Subnetwork resource", async () => {
    const s = baseline();
    s.push(
      resource("gcp:compute/subnetwork:Subnetwork", "wgmesh-subnet", {
        name: "wgmesh-subnet",
        id: "projects/p/regions/r/subnetworks/wgmesh-subnet",
        network: "wgmesh",
      }),
    );
    for (const n of ["wgmesh-gcp-cp-0", "wgmesh-gcp-worker-0"]) for (const ni of get(s, n).props.networkInterfaces as Rule[]) delete ni.network;
    s.push(
      resource("gcp:compute/firewall:Firewall", "iap-ssh", {
        network: "tools",
        sourceRanges: ["35.235.240.0/20"],
        allows: [{ protocol: "tcp", ports: ["22"] }],
      }),
    );
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
    const into = structuredClone(s);
    (get(into, "iap-ssh").props as Rule).network = "wgmesh";
    expect(await messages(into)).toContain("TCP 22");
  });

  it("passes a bastion (no role tag) in another subnet with SSH open to an admin range; an untagged instance is a node when nothing is tagged", async () => {
    const s = baseline();
    s.push(
      resource("aws:ec2/securityGroup:SecurityGroup", "bastion", {
        id: "sg-bastion",
        vpcId: "vpc-1",
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.0/24"] }],
      }),
    );
    s.push(
      resource("aws:ec2/instance:Instance", "bastion", {
        id: "i-bastion",
        subnetId: "subnet-public",
        vpcSecurityGroupIds: ["sg-bastion"],
        tags: { Name: "bastion" },
      }),
    );
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
    const untagged = structuredClone(s);
    for (const r of untagged) if (r.type === "aws:ec2/instance:Instance") delete (r.props.tags as Rule)["wg-mesh/role"];
    expect(await messages(untagged)).toMatch(/'bastion' .*TCP 22/);
  });
});

describe("underlay-firewall-rules: the large-cluster mode (issue 24)", () => {
  const wg = (s: FixtureResource[]) => awsWireguard(s, "wgmesh-worker");

  it("passes UDP 51871 alone from anywhere (wireguard-port-from-nodes-only judges its sources)", async () => {
    expect(await runStackPolicy(policy, largeClusterBaseline())).toEqual({ violations: [] });
  });

  // One change each: more than WireGuard's port from anywhere is more than WireGuard.
  it.each([
    [
      "a wider UDP range",
      (s: FixtureResource[]) => Object.assign(wg(s), { fromPort: 51000, toPort: 52000 }),
      /'wgmesh-worker' .*ingress\[0\]: admits UDP 51000-51870,51872-52000 from 0\.0\.0\.0\/0/,
    ],
    [
      "all UDP",
      (s: FixtureResource[]) => Object.assign(wg(s), { fromPort: 0, toPort: 65535 }),
      /'wgmesh-worker' .*ingress\[0\]: admits UDP 0-51870,51872-65535 from 0\.0\.0\.0\/0/,
    ],
    [
      "every protocol",
      (s: FixtureResource[]) => Object.assign(wg(s), { protocol: "-1", fromPort: 0, toPort: 0 }),
      /'wgmesh-worker' .*ingress\[0\]: admits every protocol and port .*from 0\.0\.0\.0\/0/,
    ],
    [
      "any TCP",
      (s: FixtureResource[]) => Object.assign(wg(s), { protocol: "tcp", fromPort: 0, toPort: 65535 }),
      /'wgmesh-worker' .*ingress\[0\]: admits TCP 0-65535 .*from 0\.0\.0\.0\/0/,
    ],
    [
      "another port beside 51871",
      (s: FixtureResource[]) => (get(s, "wgmesh-gcp-wireguard").props.allows = [{ protocol: "udp", ports: ["51871", "53"] }]),
      /'wgmesh-gcp-wireguard' .*allows\[0\]: admits UDP 53 from 0\.0\.0\.0\/0/,
    ],
  ])("rejects %s from anywhere", async (_case, change, message) => {
    const s = largeClusterBaseline();
    change(s);
    const { violations } = await runStackPolicy(policy, s);
    expect(violations.map((v) => v.message)).toEqual([expect.stringMatching(message)]);
  });
});
