// Grows a stack to N resources the way a big cluster grows: more nodes, each with what the
// program gives a node (an AWS instance with its Elastic IP and association, or a GCP instance
// with its static address) and the per-node WireGuard rules every pool then needs (a
// SecurityGroupIngressRule per security group; a source range on every GCP firewall that admits
// WireGuard), while the cluster-wide resources (Cilium, the agent, security groups) stay single.
// The grown stack stays compliant: every node admits WireGuard from every other node.
import type { FixtureResource } from "./fixtures/load";

type Props = Record<string, any>;
const urnOf = (t: FixtureResource, name: string) => t.urn.replace(/::[^:]+$/, `::${name}`);
const addressOf = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export function scaleStack(stack: readonly FixtureResource[], size: number): FixtureResource[] {
  const out = structuredClone([...stack]);
  const find = (type: string) => out.find((r) => r.type === type);
  const awsNode = find("aws:ec2/instance:Instance");
  const eip = find("aws:ec2/eip:Eip");
  const assoc = find("aws:ec2/eipAssociation:EipAssociation");
  const gcpNode = find("gcp:compute/instance:Instance");
  const gcpAddress = find("gcp:compute/address:Address");
  const groups = out.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup");
  const wgFirewalls = out.filter(
    (r) =>
      r.type === "gcp:compute/firewall:Firewall" &&
      ((r.props.allows as Props[] | undefined) ?? []).some((a) => a.protocol === "udp" && (a.ports ?? []).includes("51871")),
  );
  const add = (t: FixtureResource, name: string, props: Props) => out.push({ type: t.type, name, urn: urnOf(t, name), props });
  const table = out.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.props.metadata as Props | undefined)?.name === "node-router-node-table");
  const tableEntries: Props[] = [];
  const unit = 3 + groups.length; // the largest node unit: instance, address, association, one rule per group
  for (let i = 0; out.length + unit <= size; i++) {
    const ip = addressOf(i);
    if (i % 2 === 0 && awsNode && eip && assoc) {
      const id = `i-scale${i}`;
      const props: Props = { ...structuredClone(awsNode.props), id, tags: { ...(awsNode.props.tags as Props | undefined), Name: `${awsNode.name}-${i}` } };
      delete props.privateIp;
      tableEntries.push({ name: `${awsNode.name}-${i}`, role: "worker", addresses: [ip] });
      add(awsNode, `${awsNode.name}-${i}`, props);
      add(eip, `${eip.name}-${i}`, { ...structuredClone(eip.props), id: `eipalloc-s${i}`, allocationId: `eipalloc-s${i}`, publicIp: ip });
      add(assoc, `${assoc.name}-${i}`, { id: `eipassoc-s${i}`, allocationId: `eipalloc-s${i}`, instanceId: id });
    } else if (gcpNode && gcpAddress) {
      add(gcpNode, `${gcpNode.name}-${i}`, {
        ...structuredClone(gcpNode.props),
        id: `${gcpNode.props.id}-${i}`,
        networkInterfaces: [{ network: "wgmesh", subnetwork: "wgmesh-subnet", accessConfigs: [{ natIp: ip }] }],
      });
      tableEntries.push({ name: `${gcpNode.name}-${i}`, role: "worker", addresses: [ip] });
      add(gcpAddress, `${gcpAddress.name}-${i}`, { id: `${gcpAddress.props.id}-${i}`, address: ip, addressType: "EXTERNAL" });
    }
    for (const g of groups) {
      out.push({
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name: `${g.name}-wireguard-${i}`,
        urn: `urn:pulumi:dev::wg-mesh-cluster::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::${g.name}-wireguard-${i}`,
        props: { securityGroupId: g.props.id, ipProtocol: "udp", fromPort: 51871, toPort: 51871, cidrIpv4: `${ip}/32` },
      });
    }
    for (const f of wgFirewalls) (f.props.sourceRanges as string[]).push(`${ip}/32`);
  }
  // The node table lists every node (node-router-node-table).
  if (table) {
    const data = table.props.data as Props;
    const doc = JSON.parse(data["node-table.json"] as string) as { nodes: Props[] };
    doc.nodes.push(...tableEntries);
    data["node-table.json"] = JSON.stringify(doc);
  }
  // Ordinary objects fill the rest.
  for (let i = 0; out.length < size; i++) {
    out.push({
      type: "kubernetes:core/v1:ConfigMap",
      name: `app-settings-${i}`,
      urn: `urn:pulumi:dev::wg-mesh-cluster::kubernetes:core/v1:ConfigMap::app-settings-${i}`,
      props: { metadata: { name: `app-settings-${i}`, namespace: "default" }, data: { LOG_LEVEL: "info" } },
    });
  }
  return out;
}
