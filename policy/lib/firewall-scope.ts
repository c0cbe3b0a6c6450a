// Which firewalls guard cluster nodes, which of them target control-plane nodes, and which node
// pools exist. This project tags its firewalls (AWS SG tag `wg-mesh/role`, GCP target tags
// `<cluster>-control-plane` / `<cluster>-worker`); other stacks are handled conservatively:
// an AWS SG is in scope when tagged or attached to a node resource, or when a rule points at
// a group we cannot find in the stack; a GCP firewall is in scope unless its targets are known
// and match no node. A target is "control-plane" only when the tags say so.
import type { GroupRef, IngressRule } from "./firewall";
import { cloudOf, isNodeResource } from "./nodes";
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asRecord, at } from "./values";

export interface RoleOptions {
  roleTagKey: string;
  controlPlaneRole: string;
  gcpControlPlaneTagSuffix: string;
  gcpWorkerTagSuffix: string;
}

export type Role = "control-plane" | "other" | Unknown;

export interface FirewallContext {
  findGroup(ref: GroupRef): Res | undefined;
  guardsNodes(rule: IngressRule): boolean | Unknown;
  roleOf(rule: IngressRule): Role;
  /** Node pools: AWS node security groups and GCP role tags ("*" = every GCP instance). */
  awsPools: Res[];
  gcpPools: string[];
  /** The cloud of the static address resource (AWS EIP, GCP Address) holding `ip`, if the stack has one. */
  addressCloud(ip: string): "aws" | "gcp" | undefined;
}

const AWS_NODE_SG_FIELDS = ["vpcSecurityGroupIds", "securityGroups", "networkInterfaces"];

function collectNodeRefs(nodes: readonly Res[]): { ids: Set<string>; urns: Set<string>; gcpTags: Set<string>; gcpTagsUnknown: boolean } {
  const ids = new Set<string>();
  const urns = new Set<string>();
  const gcpTags = new Set<string>();
  let gcpTagsUnknown = false;
  for (const n of nodes) {
    if (cloudOf(n) === "aws") {
      for (const f of AWS_NODE_SG_FIELDS) {
        const v = n.props[f];
        const list = asArray(v);
        const items = f === "networkInterfaces" && Array.isArray(list) ? list.flatMap((ni) => asArray(at(ni, "securityGroups"))) : list;
        if (Array.isArray(items)) for (const id of items) if (typeof id === "string") ids.add(id);
        for (const u of n.propertyDependencies[f] ?? []) urns.add(u);
      }
    } else if (cloudOf(n) === "gcp") {
      const tags = asArray(n.props["tags"] ?? at(n.props, "properties.tags"));
      if (isUnknown(tags)) gcpTagsUnknown = true;
      else for (const t of tags) if (typeof t === "string") gcpTags.add(t);
    }
  }
  return { ids, urns, gcpTags, gcpTagsUnknown };
}

export function firewallContext(resources: readonly Res[], opts: RoleOptions): FirewallContext {
  const sgs = resources.filter((r) => r.type === TYPES.awsSecurityGroup);
  const nodes = resources.filter((r) => isNodeResource(r));
  const refs = collectNodeRefs(nodes);

  const findGroup = (ref: GroupRef): Res | undefined => {
    if (ref.id !== undefined) {
      const byId = sgs.find((sg) => sg.props["id"] === ref.id);
      if (byId) return byId;
    }
    return ref.urns.length === 1 ? sgs.find((sg) => sg.urn === ref.urns[0]) : undefined;
  };
  const sgRole = (sg: Res): string | undefined | Unknown => {
    const tags = asRecord(sg.props["tags"]);
    if (isUnknown(tags)) return UNKNOWN;
    const value = tags[opts.roleTagKey];
    return isUnknown(value) ? UNKNOWN : typeof value === "string" ? value : undefined;
  };
  const isNodeSg = (sg: Res): boolean =>
    sgRole(sg) !== undefined || refs.urns.has(sg.urn) || (typeof sg.props["id"] === "string" && refs.ids.has(sg.props["id"]));
  const isRoleTag = (t: string): boolean => t.endsWith(opts.gcpControlPlaneTagSuffix) || t.endsWith(opts.gcpWorkerTagSuffix);

  const guardsNodes = (rule: IngressRule): boolean | Unknown => {
    if (rule.target.cloud === "aws") {
      const sg = rule.origin.type === TYPES.awsSecurityGroup ? rule.origin : findGroup(rule.target.group);
      return sg === undefined ? true : isNodeSg(sg); // unresolvable target: conservative
    }
    const { tags, serviceAccounts } = rule.target;
    if (isUnknown(tags) || isUnknown(serviceAccounts)) return UNKNOWN;
    if (tags.length === 0) return true; // no target tags: applies to every instance (service accounts: conservative)
    if (tags.some((t) => isRoleTag(t) || refs.gcpTags.has(t))) return true;
    return refs.gcpTagsUnknown ? UNKNOWN : false;
  };

  const roleOf = (rule: IngressRule): Role => {
    if (rule.target.cloud === "aws") {
      const sg = rule.origin.type === TYPES.awsSecurityGroup ? rule.origin : findGroup(rule.target.group);
      if (sg === undefined) return "other";
      const role = sgRole(sg);
      return isUnknown(role) ? UNKNOWN : role === opts.controlPlaneRole ? "control-plane" : "other";
    }
    const tags = rule.target.tags;
    if (isUnknown(tags)) return UNKNOWN;
    return tags.length > 0 && tags.every((t) => t.endsWith(opts.gcpControlPlaneTagSuffix)) ? "control-plane" : "other";
  };

  const gcpPools = new Set<string>();
  for (const t of refs.gcpTags) if (isRoleTag(t)) gcpPools.add(t);
  for (const fw of resources.filter((r) => r.type === TYPES.gcpFirewall)) {
    const tags = asArray(fw.props["targetTags"]);
    if (Array.isArray(tags)) for (const t of tags) if (typeof t === "string" && isRoleTag(t)) gcpPools.add(t);
  }
  if (gcpPools.size === 0 && nodes.some((n) => cloudOf(n) === "gcp")) gcpPools.add("*");

  // Static node addresses (known after they are allocated): lets a /32 source be told apart
  // as a node of one cloud or the other.
  const addressClouds = new Map<string, "aws" | "gcp">();
  for (const r of resources) {
    if (r.type === "aws:ec2/eip:Eip" && typeof r.props["publicIp"] === "string") addressClouds.set(r.props["publicIp"], "aws");
    if (r.type === "gcp:compute/address:Address" && typeof r.props["address"] === "string") addressClouds.set(r.props["address"], "gcp");
  }
  const addressCloud = (ip: string) => addressClouds.get(ip);
  return { findGroup, guardsNodes, roleOf, awsPools: sgs.filter(isNodeSg), gcpPools: [...gcpPools], addressCloud };
}
