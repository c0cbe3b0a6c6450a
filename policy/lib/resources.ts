// One plain shape for a resource, whether it comes from a resource validation, a stack
// validation or a captured fixture, so helpers and policies never touch analyzer proxies.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { deepFreeze, isSharedCopy, sharedCopy } from "./shared-properties";
import { isAssetRef, plain, proxyTarget, settleAssets, type AssetRef } from "./unknowns";

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

/**
 * plain() of a stack resource's properties with the assets it found. Made once per AnalyzeStack
 * for all 14 stack policies when the runtime shares the properties (lib/shared-properties.ts),
 * then frozen. (A resource policy copies what it reads: in Analyze few resources interest more
 * than one policy, so freezing would cost more than the copies it saves.)
 */
function plainProps(value: unknown): { props: Record<string, unknown>; assets: AssetRef[] } {
  let found: AssetRef[] = [];
  const props = sharedCopy(
    proxyTarget(value),
    () => {
      const copy = asProps(plain(value, found));
      if (found.length > 0) assetsOf.set(copy, found);
      return copy;
    },
    isAssetRef,
  );
  if (isSharedCopy(props)) found = assetsOf.get(props) ?? [];
  return { props, assets: found };
}
/** The assets plain() found in a shared props copy (their refs stay mutable until they settle). */
const assetsOf = new WeakMap<object, AssetRef[]>();

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
  const { props, assets } = plainProps(r.props);
  return { type: r.type, name: r.name, urn: r.urn, props, parent: r.parent?.urn, propertyDependencies: deps, ...(assets.length > 0 ? { assets } : {}) };
}

/**
 * `compute` made once per stack for the stack policies that call it with equal options: the last
 * result is reused while the resources are the same, that is, the same type, name, URN, parent and
 * property dependencies, and the same props objects, which only counts for shared copies
 * (lib/shared-properties.ts: deep-frozen copies of the request's properties, one per request). Any
 * other resources (unit tests' plain objects, which may change between runs) are computed afresh.
 * The reused result is deep-frozen (asset references aside, which settle later), so no policy can
 * change what the next one reads.
 */
export function stackMemo<O, T>(compute: (resources: readonly Res[], opts: O) => T, keyOf: (opts: O) => string): (resources: readonly Res[], opts: O) => T {
  let last: { resources: readonly Res[]; key: string; value: T } | undefined;
  return (resources, opts) => {
    if (!resources.every((r) => isSharedCopy(r.props))) return compute(resources, opts);
    const key = keyOf(opts);
    if (last !== undefined && last.key === key && sameResources(last.resources, resources)) return last.value;
    const snapshot = [...resources];
    deepFreeze(snapshot, isAssetRef);
    const value = compute(snapshot, opts);
    deepFreeze(value, isAssetRef);
    last = { resources: snapshot, key, value };
    return value;
  };
}

function sameResources(a: readonly Res[], b: readonly Res[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x.props !== y.props || x.type !== y.type || x.name !== y.name || x.urn !== y.urn || x.parent !== y.parent || x.assets !== y.assets) return false;
    const kx = Object.keys(x.propertyDependencies);
    if (kx.length !== Object.keys(y.propertyDependencies).length) return false;
    for (const k of kx) {
      const dx = x.propertyDependencies[k];
      const dy = y.propertyDependencies[k];
      if (dy === undefined || dx.length !== dy.length || dx.some((u, j) => u !== dy[j])) return false;
    }
  }
  return true;
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
