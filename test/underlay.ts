// A model of the underlay firewall built only from the resources the program registered:
// which node can send what to which node. Tests judge the program by this, not by the
// intents it meant to render.
import * as ipaddr from "ipaddr.js";
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";

export interface UnderlayNode {
  readonly name: string;
  readonly cloud: "aws" | "gcp";
  readonly address: string;
  readonly role: string;
}
export interface Admission {
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
  readonly sources: readonly string[];
  readonly rule: string;
}

/** The network interface an AWS instance boots with (its primary interface, created before it). */
export function primaryInterface(rs: readonly Recorded[], instance: Recorded): Recorded | undefined {
  return ofType(rs, "aws:ec2/networkInterface:NetworkInterface").find((n) => n.id === instance.inputs.primaryNetworkInterface?.networkInterfaceId);
}

export function underlayNodes(rs: readonly Recorded[]): UnderlayNode[] {
  const eipByAlloc = new Map(ofType(rs, "aws:ec2/eip:Eip").map((e) => [e.state.allocationId, e.state.publicIp as string]));
  const aws = ofType(rs, "aws:ec2/instance:Instance").map((i) => {
    const eni = primaryInterface(rs, i);
    const assoc = ofType(rs, "aws:ec2/eipAssociation:EipAssociation").find((a) => eni !== undefined && a.inputs.networkInterfaceId === eni.id);
    return { name: i.inputs.tags.Name, cloud: "aws" as const, address: eipByAlloc.get(assoc?.inputs.allocationId) ?? "", role: i.inputs.tags["wg-mesh/role"] };
  });
  const gcp = ofType(rs, "gcp:compute/instance:Instance").map((i) => ({
    name: i.inputs.name,
    cloud: "gcp" as const,
    address: i.inputs.networkInterfaces[0].accessConfigs[0].natIp,
    role: (i.inputs.tags as string[]).some((t) => t.endsWith("-control-plane")) ? "control-plane" : "worker",
  }));
  return [...aws, ...gcp];
}

/** Every ingress admission that guards `node`. ICMP is reported as protocol "icmp" with from/to = type/code. */
export function admissionsTo(rs: readonly Recorded[], node: UnderlayNode): Admission[] {
  if (node.cloud === "aws") {
    const instance = ofType(rs, "aws:ec2/instance:Instance").find((i) => i.inputs.tags.Name === node.name)!;
    const groups = new Set<string>(primaryInterface(rs, instance)?.inputs.securityGroups ?? instance.inputs.vpcSecurityGroupIds ?? []);
    // A managed prefix list admits each of its entries.
    const listEntries = (id: string | undefined): string[] =>
      ofType(rs, "aws:ec2/managedPrefixList:ManagedPrefixList")
        .find((l) => l.id === id)
        ?.inputs.entries.map((e: { cidr: string }) => e.cidr) ?? [];
    const inline = ofType(rs, "aws:ec2/securityGroup:SecurityGroup")
      .filter((g) => groups.has(g.id))
      .flatMap((g) =>
        (g.inputs.ingress ?? []).map((r: any) => ({ protocol: String(r.protocol), from: r.fromPort, to: r.toPort, sources: r.cidrBlocks ?? [], rule: g.name })),
      );
    const separate = ofType(rs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => groups.has(r.inputs.securityGroupId))
      .map((r) => ({
        protocol: String(r.inputs.ipProtocol),
        from: r.inputs.fromPort ?? 0,
        to: r.inputs.toPort ?? 65535,
        sources: r.inputs.prefixListId !== undefined ? listEntries(r.inputs.prefixListId) : [r.inputs.cidrIpv4],
        rule: r.name,
      }));
    return [...inline, ...separate];
  }
  const instance = ofType(rs, "gcp:compute/instance:Instance").find((i) => i.inputs.name === node.name)!;
  const tags = new Set<string>(instance.inputs.tags);
  return ofType(rs, "gcp:compute/firewall:Firewall")
    .filter((f) => (f.inputs.direction ?? "INGRESS") === "INGRESS" && (!f.inputs.targetTags || f.inputs.targetTags.some((t: string) => tags.has(t))))
    .flatMap((f) =>
      (f.inputs.allows ?? []).flatMap((a: any) => {
        const ranges: string[] = a.ports ?? (a.protocol === "icmp" ? ["-1"] : ["0-65535"]);
        return ranges.map((p) => {
          const [from, to] = p.includes("-") && p !== "-1" ? p.split("-").map(Number) : [Number(p), Number(p)];
          return { protocol: a.protocol, from, to, sources: f.inputs.sourceRanges ?? [], rule: f.name };
        });
      }),
    );
}

const inCidr = (address: string, cidr: string): boolean => {
  const a = ipaddr.parse(address);
  const range = ipaddr.parseCIDR(cidr);
  return a.kind() === range[0].kind() && a.match(range);
};

/** The admissions guarding `to` that let `from`'s address in. */
export function admitted(rs: readonly Recorded[], from: UnderlayNode, to: UnderlayNode): Admission[] {
  return admissionsTo(rs, to).filter((a) => a.sources.some((s) => inCidr(from.address, s)));
}
