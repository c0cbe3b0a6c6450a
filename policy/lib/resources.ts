// One plain shape for a resource, whether it comes from a resource validation, a stack
// validation or a captured fixture, so helpers and policies never touch analyzer proxies.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { plain, settleAssets, type AssetRef } from "./unknowns";

export interface Res {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  /** URN of the parent resource, when known. */
  parent?: string;
  /** Property name -> URNs it depends on (lets us match references whose ids are unknown at preview). */
  propertyDependencies: Record<string, string[]>;
  /** Assets in props whose contents the analyzer still holds as promises (see withAssets). */
  assets?: AssetRef[];
}

export const TYPES = {
  helmRelease: "kubernetes:helm.sh/v3:Release",
  helmChartV4: "kubernetes:helm.sh/v4:Chart",
  configMap: "kubernetes:core/v1:ConfigMap",
  configMapPatch: "kubernetes:core/v1:ConfigMapPatch",
  secret: "kubernetes:core/v1:Secret",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  daemonSetPatch: "kubernetes:apps/v1:DaemonSetPatch",
  awsSecurityGroup: "aws:ec2/securityGroup:SecurityGroup",
  awsDefaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  awsSecurityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  awsIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  awsPrefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
  awsPrefixListEntry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
  awsNetworkInterface: "aws:ec2/networkInterface:NetworkInterface",
  awsNetworkInterfaceAttachment: "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
  awsNetworkInterfaceSgAttachment: "aws:ec2/networkInterfaceSecurityGroupAttachment:NetworkInterfaceSecurityGroupAttachment",
  awsEip: "aws:ec2/eip:Eip",
  awsEipAssociation: "aws:ec2/eipAssociation:EipAssociation",
  gcpFirewall: "gcp:compute/firewall:Firewall",
  gcpAddress: "gcp:compute/address:Address",
  awsInstance: "aws:ec2/instance:Instance",
  gcpInstance: "gcp:compute/instance:Instance",
  stack: "pulumi:pulumi:Stack",
} as const;

function asProps(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function fromResourceArgs(args: Pick<ResourceValidationArgs, "type" | "name" | "urn" | "props" | "opts">): Res {
  const assets: AssetRef[] = [];
  const props = asProps(plain(args.props, assets));
  return {
    type: args.type,
    name: args.name,
    urn: args.urn,
    props,
    parent: args.opts?.parent,
    propertyDependencies: {},
    ...(assets.length > 0 ? { assets } : {}),
  };
}

export function fromPolicyResource(r: PolicyResource): Res {
  const deps: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.propertyDependencies ?? {})) deps[k] = v.map((d) => d.urn);
  const assets: AssetRef[] = [];
  const props = asProps(plain(r.props, assets));
  return { type: r.type, name: r.name, urn: r.urn, props, parent: r.parent?.urn, propertyDependencies: deps, ...(assets.length > 0 ? { assets } : {}) };
}

/** The resource once the contents of its assets (Helm valueYamlFiles) are read. */
export async function withAssets<T extends Res | readonly Res[]>(res: T): Promise<T> {
  for (const r of (Array.isArray(res) ? res : [res]) as Res[]) if (r.assets) await settleAssets(r.assets);
  return res;
}

/**
 * Does a reference (a property value plus the URNs that property depends on) point at `target`?
 * By id once ids are known, by property dependency while they are not.
 */
export function refersTo(value: unknown, deps: readonly string[] | undefined, target: Res, idKeys: readonly string[] = ["id"]): boolean {
  if (typeof value === "string" && idKeys.some((k) => target.props[k] === value)) return true;
  return (deps ?? []).includes(target.urn) && (typeof value !== "string" || idKeys.every((k) => typeof target.props[k] !== "string"));
}

/** How messages name a resource: its logical name and URN. */
export function label(r: Pick<Res, "name" | "urn">): string {
  return `'${r.name}' (${r.urn})`;
}
