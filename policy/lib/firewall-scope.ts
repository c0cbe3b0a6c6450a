// The firewall view of a stack: its nodes (with role, guarding security groups or GCP tags and
// peer addresses), every ingress rule, and which rules guard which nodes.
//   - AWS: a node is guarded by the security groups it names (vpcSecurityGroupIds,
//     securityGroups, launch-template interfaces), those of its network interfaces (their
//     securityGroups and NetworkInterfaceSecurityGroupAttachments), or, naming none, its VPC's
//     default security group. A group is a node firewall when it guards a node or carries the
//     role tag; a rule whose group is not in the stack counts too, to be safe.
//   - GCP: a firewall guards the nodes of its network (lib/gcp-networks.ts) its target tags /
//     service accounts select; no targets means every instance of that network, so a rule in a
//     network without nodes guards none. Unknown targets are treated as guarding nodes.
// A target is "control-plane" only when its role is marked (AWS tag, GCP tag suffix) or every
// node behind it is a control-plane node.
import { hostAddress } from "./cidr";
import type { IngressRule, Ref, Source } from "./firewall";
import { ingressRules } from "./firewall";
import { networkIndex } from "./gcp-networks";
import { addressIndex, interfacesOf, peerAddresses, type PeerAddressing } from "./node-addresses";
import { cloudOf, nodeResources } from "./nodes";
import { prefixListIndex, type Expanded } from "./prefix-lists";
import { formatPorts, overlaps, type PortRange } from "./ports";
import { label, stackMemo, TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown, type UnknownNotes } from "./unknowns";
import { asArray, asRecord, at, stringList } from "./values";

export interface RoleOptions {
  roleTagKey: string;
  controlPlaneRole: string;
  gcpControlPlaneTagSuffix: string;
  gcpWorkerTagSuffix: string;
  peerAddresses?: PeerAddressing;
}

export type Role = "control-plane" | "other" | Unknown;

export interface NodeInfo {
  res: Res;
  cloud: string;
  role: Role;
  /** Peer addresses (see node-addresses.ts); UNKNOWN entries at preview. */
  addresses: Array<string | Unknown>;
  /** Why no address of this node is visible in any phase. */
  addressMissing?: string;
  /** Its other addresses (private ones when peers use public ones, and the reverse). */
  otherAddresses: Array<string | Unknown>;
  /** AWS security groups in the stack guarding the node. */
  groups: Res[];
  /** AWS group references that resolve to nothing in the stack (ids), or unknown ones. */
  foreignGroups: string[];
  groupsUnknown: boolean;
  gcpTags: string[] | Unknown;
  gcpAccounts: string[] | Unknown;
  /** GCP: the networks its interfaces are in (lib/gcp-networks.ts). */
  gcpNetworks: Array<string | Unknown>;
}

export interface FirewallContext {
  nodes: NodeInfo[];
  rules: IngressRule[];
  findGroup(ref: Ref): Res | undefined;
  guardsNodes(rule: IngressRule): boolean | Unknown;
  /** Nodes a rule applies to; `uncertain` when its target is unknown or outside the stack. */
  nodesBehind(rule: IngressRule): { nodes: NodeInfo[]; uncertain: boolean };
  roleOf(rule: IngressRule): Role;
  /** A source with prefix lists resolved into their entries. */
  expand(source: Source): Expanded[];
  /** The node owning an address (peer or other), if any. */
  nodeAt(ip: string): NodeInfo | undefined;
  /** True while some node address is unknown (first preview): an unowned address may still be a node's. */
  addressesPending: boolean;
  /** The cloud of the static address resource (AWS EIP, GCP Address) holding `ip`, if the stack has one. */
  addressCloud(ip: string): "aws" | "gcp" | undefined;
  /** Back-compat views: AWS node security groups and GCP role tags ("*" = every GCP instance). */
  awsPools: Res[];
  gcpPools: string[];
}

const GROUP_TYPES: string[] = [TYPES.awsSecurityGroup, TYPES.awsDefaultSecurityGroup];
const deps = (r: Res, k: string) => r.propertyDependencies[k] ?? [];

/**
 * The firewall view of `resources`. Five stack policies ask for it on the same stack with the
 * same role options; within one AnalyzeStack it is built once (stackMemo, lib/resources.ts). It
 * reads only these five options.
 */
export const firewallContext: (resources: readonly Res[], opts: RoleOptions) => FirewallContext = stackMemo(buildFirewallContext, (o) =>
  JSON.stringify([o.roleTagKey, o.controlPlaneRole, o.gcpControlPlaneTagSuffix, o.gcpWorkerTagSuffix, o.peerAddresses]),
);

function buildFirewallContext(resources: readonly Res[], opts: RoleOptions): FirewallContext {
  const groups = resources.filter((r) => GROUP_TYPES.includes(r.type));
  const defaultGroups = groups.filter((g) => g.type === TYPES.awsDefaultSecurityGroup);
  const sgAttachments = resources.filter((r) => r.type === TYPES.awsNetworkInterfaceSgAttachment);
  const ix = addressIndex(resources);
  const prefixLists = prefixListIndex(resources);
  const nets = networkIndex(resources);

  const byId = new Map<string, Res>();
  for (const g of groups) {
    if (typeof g.props["id"] === "string") byId.set(g.props["id"], g);
    if (typeof g.props["name"] === "string" && !byId.has(g.props["name"])) byId.set(g.props["name"], g);
  }
  const byUrn = new Map(groups.map((g) => [g.urn, g]));
  const findGroup = (r: Ref): Res | undefined => (r.id !== undefined ? byId.get(r.id) : undefined) ?? (r.urns.length === 1 ? byUrn.get(r.urns[0]) : undefined);
  const groupRole = (g: Res): string | undefined | Unknown => {
    const tags = asRecord(g.props["tags"]);
    if (isUnknown(tags)) return UNKNOWN;
    const v = tags[opts.roleTagKey];
    return isUnknown(v) ? UNKNOWN : typeof v === "string" ? v : undefined;
  };
  const isRoleTag = (t: string) => t.endsWith(opts.gcpControlPlaneTagSuffix) || t.endsWith(opts.gcpWorkerTagSuffix);

  /** Groups a list-valued property names: by id, or by the property's dependencies. */
  const collect = (value: unknown, propDeps: string[], into: NodeInfo) => {
    const list = stringList(value);
    for (const id of list.items) {
      const g = byId.get(id);
      if (g) {
        if (!into.groups.includes(g)) into.groups.push(g);
      } else into.foreignGroups.push(id);
    }
    for (const u of propDeps) {
      const g = byUrn.get(u);
      if (g && !into.groups.includes(g)) into.groups.push(g);
    }
    if (list.unknown && propDeps.length === 0) into.groupsUnknown = true;
  };

  const nodes: NodeInfo[] = nodeResources(resources, [], opts).map((res) => {
    const cloud = cloudOf(res);
    const mode = opts.peerAddresses ?? "public";
    const found = peerAddresses(res, ix, mode);
    const other = peerAddresses(res, ix, mode === "public" ? "private" : "public").addresses;
    const info: NodeInfo = {
      res,
      cloud,
      role: "other",
      addresses: found.addresses,
      addressMissing: found.missing,
      otherAddresses: other,
      groups: [],
      foreignGroups: [],
      groupsUnknown: false,
      gcpTags: [],
      gcpAccounts: [],
      gcpNetworks: [],
    };
    if (cloud === "aws") {
      collect(res.props["vpcSecurityGroupIds"], deps(res, "vpcSecurityGroupIds"), info);
      collect(res.props["securityGroups"], deps(res, "securityGroups"), info);
      const nis = asArray(res.props["networkInterfaces"]);
      if (Array.isArray(nis)) for (const ni of nis) collect(at(ni, "securityGroups"), deps(res, "networkInterfaces"), info);
      for (const eni of interfacesOf(res, ix)) {
        collect(eni.props["securityGroups"], deps(eni, "securityGroups"), info);
        for (const a of sgAttachments) {
          const sameEni =
            (typeof a.props["networkInterfaceId"] === "string" && a.props["networkInterfaceId"] === eni.props["id"]) ||
            deps(a, "networkInterfaceId").includes(eni.urn);
          if (sameEni) collect([a.props["securityGroupId"]], deps(a, "securityGroupId"), info);
        }
      }
      // An instance that names no group gets its VPC's default security group.
      if (res.type === TYPES.awsInstance && info.groups.length === 0 && info.foreignGroups.length === 0 && !info.groupsUnknown)
        info.groups.push(...defaultGroups);
      const tag = asRecord(res.props["tags"]);
      const own = isUnknown(tag) ? UNKNOWN : tag[opts.roleTagKey];
      const roles = [own, ...info.groups.map(groupRole)];
      info.role = roles.some((r) => r === opts.controlPlaneRole) ? "control-plane" : roles.some(isUnknown) ? UNKNOWN : "other";
    } else if (cloud === "gcp") {
      const tags = asArray(res.props["tags"] ?? at(res.props, "properties.tags"));
      info.gcpTags = isUnknown(tags) ? UNKNOWN : tags.filter((t): t is string => typeof t === "string");
      const sa = at(res.props, "serviceAccount.email") ?? at(res.props, "properties.serviceAccount.email");
      info.gcpAccounts = isUnknown(sa) ? UNKNOWN : typeof sa === "string" ? [sa] : [];
      info.gcpNetworks = nets.ofNode(res);
      info.role = isUnknown(info.gcpTags) ? UNKNOWN : info.gcpTags.some((t) => t.endsWith(opts.gcpControlPlaneTagSuffix)) ? "control-plane" : "other";
    }
    return info;
  });

  const rules = resources.flatMap(ingressRules);
  const byGroup = new Map<Res, NodeInfo[]>();
  for (const n of nodes) for (const g of n.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), n]);
  const gcpNodes = nodes.filter((n) => n.cloud === "gcp");
  const groupOf = (rule: IngressRule): Res | undefined =>
    rule.target.cloud !== "aws" ? undefined : GROUP_TYPES.includes(rule.origin.type) ? rule.origin : findGroup(rule.target.group);

  const nodesBehind = (rule: IngressRule): { nodes: NodeInfo[]; uncertain: boolean } => {
    if (rule.target.cloud === "aws") {
      const g = groupOf(rule);
      return g ? { nodes: byGroup.get(g) ?? [], uncertain: false } : { nodes: [], uncertain: true };
    }
    const { tags, serviceAccounts } = rule.target;
    // A VPC firewall applies to instances of its own network only.
    const net = nets.ofRule(rule.origin);
    const inNet = isUnknown(net) ? gcpNodes : gcpNodes.filter((n) => n.gcpNetworks.some((k) => isUnknown(k) || k === net));
    if (isUnknown(tags) || isUnknown(serviceAccounts)) return { nodes: inNet, uncertain: true };
    if (tags.length === 0 && serviceAccounts.length === 0) return { nodes: inNet, uncertain: false };
    let uncertain = false;
    const hit = inNet.filter((n) => {
      if (isUnknown(n.gcpTags) || isUnknown(n.gcpAccounts)) {
        uncertain = true;
        return true;
      }
      return n.gcpTags.some((t) => tags.includes(t)) || n.gcpAccounts.some((a) => serviceAccounts.includes(a));
    });
    return { nodes: hit, uncertain };
  };

  const guardsNodes = (rule: IngressRule): boolean | Unknown => {
    if (rule.target.cloud === "aws") {
      const g = groupOf(rule);
      if (g === undefined) return true; // a group outside the stack: conservative
      return groupRole(g) !== undefined || byGroup.has(g);
    }
    const { tags, serviceAccounts } = rule.target;
    if (isUnknown(tags) || isUnknown(serviceAccounts)) return UNKNOWN;
    if (tags.some(isRoleTag)) return true;
    const behind = nodesBehind(rule);
    return behind.nodes.length > 0 ? true : behind.uncertain ? UNKNOWN : false;
  };

  const roleOf = (rule: IngressRule): Role => {
    if (rule.target.cloud === "aws") {
      const g = groupOf(rule);
      if (g === undefined) return "other";
      const role = groupRole(g);
      if (isUnknown(role)) return UNKNOWN;
      if (role !== undefined) return role === opts.controlPlaneRole ? "control-plane" : "other";
    } else {
      const tags = rule.target.tags;
      if (isUnknown(tags)) return UNKNOWN;
      if (tags.length > 0 && tags.every((t) => t.endsWith(opts.gcpControlPlaneTagSuffix))) return "control-plane";
      const accounts = rule.target.serviceAccounts;
      if (isUnknown(accounts)) return UNKNOWN;
      if (tags.length > 0 || accounts.length === 0) return "other";
    }
    // Unmarked target: control-plane only when every node behind it is one.
    const behind = nodesBehind(rule);
    if (behind.uncertain || behind.nodes.length === 0) return "other";
    return behind.nodes.every((n) => n.role === "control-plane") ? "control-plane" : behind.nodes.some((n) => isUnknown(n.role)) ? UNKNOWN : "other";
  };

  const owners = new Map<string, NodeInfo>();
  for (const n of nodes) for (const a of [...n.addresses, ...n.otherAddresses]) if (typeof a === "string") owners.set(hostAddress(a) ?? a, n);
  const addressClouds = new Map<string, "aws" | "gcp">();
  for (const r of resources) {
    if (r.type === TYPES.awsEip && typeof r.props["publicIp"] === "string") addressClouds.set(r.props["publicIp"], "aws");
    if (r.type === TYPES.gcpAddress && typeof r.props["address"] === "string") addressClouds.set(r.props["address"], "gcp");
  }
  const gcpPools = new Set<string>();
  for (const n of nodes) if (Array.isArray(n.gcpTags)) for (const t of n.gcpTags) if (isRoleTag(t)) gcpPools.add(t);
  if (gcpPools.size === 0 && nodes.some((n) => n.cloud === "gcp")) gcpPools.add("*");

  return {
    nodes,
    rules,
    findGroup,
    guardsNodes,
    nodesBehind,
    roleOf,
    expand: (s) => prefixLists.expand(s),
    nodeAt: (ip) => owners.get(hostAddress(ip) ?? ip),
    addressesPending: nodes.some((n) => n.addresses.some(isUnknown) || n.otherAddresses.some(isUnknown)),
    addressCloud: (ip) => addressClouds.get(ip),
    awsPools: groups.filter((g) => groupRole(g) !== undefined || byGroup.has(g)),
    gcpPools: [...gcpPools],
  };
}

/** How messages name a rule: its resource and where in it the rule sits. */
export function ruleName(rule: IngressRule): string {
  return `${label(rule.origin)}${rule.field ? ` ${rule.field}` : ""}`;
}

/** The rules on node firewalls that admit `protocol` on some of `ports`; what is unknown goes to `notes`. */
export function rulesAdmitting(
  ctx: FirewallContext,
  protocol: "tcp" | "udp",
  ports: readonly PortRange[],
  notes: UnknownNotes,
): Array<{ rule: IngressRule; where: string }> {
  const out: Array<{ rule: IngressRule; where: string }> = [];
  for (const rule of ctx.rules) {
    if (ctx.guardsNodes(rule) === false) continue;
    const where = ruleName(rule);
    if (isUnknown(rule.protocol)) {
      notes.add(`the protocol of ${where}`);
      continue;
    }
    if (rule.protocol !== protocol && rule.protocol !== "all") continue;
    if (isUnknown(rule.ports)) {
      notes.add(`the ports of ${where}`);
      continue;
    }
    if (overlaps(rule.ports, ports)) out.push({ rule, where });
  }
  return out;
}

/** The rules admitting from the same sources as `rule`: those of its origin and entry (itself included; a GCP firewall's other `allows`). */
export function entryRules(ctx: FirewallContext, rule: IngressRule): IngressRule[] {
  return ctx.rules.filter((r) => r.origin === rule.origin && r.entry === rule.entry);
}

/**
 * Whether everything `rule`'s entry admits is `protocol` on `port` alone: it and every other rule
 * of its entry (entryRules) name that protocol and exactly that port. UNKNOWN while a protocol or
 * ports are unknown.
 */
export function admitsOnlyPort(ctx: FirewallContext, rule: IngressRule, protocol: "tcp" | "udp", port: number): boolean | Unknown {
  let unknown = false;
  for (const r of entryRules(ctx, rule)) {
    if (isUnknown(r.protocol) || isUnknown(r.ports)) {
      unknown = true;
      continue;
    }
    if (r.protocol !== protocol || r.ports.length === 0 || r.ports.some((p) => p.from !== port || p.to !== port)) return false;
  }
  return unknown ? UNKNOWN : true;
}

/** What the rules of `rule`'s entry admit, for messages: "UDP 51871, TCP 0-65535", "every protocol". */
export function describeAdmission(ctx: FirewallContext, rule: IngressRule): string {
  return entryRules(ctx, rule)
    .map((r) => {
      if (isUnknown(r.protocol)) return "an unknown protocol";
      if (r.protocol === "all") return "every protocol";
      if (r.protocol !== "tcp" && r.protocol !== "udp") return r.protocol.toUpperCase();
      return isUnknown(r.ports) ? `${r.protocol.toUpperCase()} on unknown ports` : `${r.protocol.toUpperCase()} ${formatPorts(r.ports)}`;
    })
    .join(", ");
}
