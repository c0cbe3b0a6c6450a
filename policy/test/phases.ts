// A stack as the Pulumi CLI presents it to the pack in each phase it runs it:
//   first-preview  `pulumi preview` of a new stack: Analyze gets each resource's inputs, where
//                  everything computed from another resource's outputs is unknown; AnalyzeStack
//                  gets the planned outputs: inputs plus unknown computed outputs (ids, addresses).
//   up             the `pulumi up` that creates it: inputs known when each resource registers;
//                  AnalyzeStack gets the real outputs, ids included.
//   later-preview  `pulumi preview` of the unchanged stack: inputs and outputs from the state; a
//                  refreshed security group's `ingress` also lists the standalone rules on it.
// Property dependencies travel with every AnalyzeStack (they name what an unknown came from).
// Here the phases are derived from a stack captured after `up`; test/policyPhases.ts drives the
// real program through a real preview instead.
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "./fixtures/load";

export type Phase = "first-preview" | "up" | "later-preview";
export const PHASES: readonly Phase[] = ["first-preview", "up", "later-preview"];

/** Analyze sees `inputs` (when given), AnalyzeStack sees `props`. */
export type PhasedResource = FixtureResource & { inputs?: Record<string, unknown> };

/** Outputs providers compute (unknown in a plan), per type; every aws:/gcp: resource also has `id`. */
export const COMPUTED_OUTPUTS: Record<string, string[]> = {
  "aws:ec2/eip:Eip": ["publicIp", "allocationId", "publicDns", "associationId"],
  "aws:ec2/instance:Instance": ["publicIp", "publicDns", "primaryNetworkInterfaceId", "arn"],
  "aws:ec2/securityGroup:SecurityGroup": ["arn", "ownerId"],
  "aws:ec2/networkInterface:NetworkInterface": ["macAddress"],
  "aws:ec2/managedPrefixList:ManagedPrefixList": ["arn", "version"],
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["arn", "securityGroupRuleId"],
  "gcp:compute/address:Address": ["address", "selfLink", "creationTimestamp"],
  "gcp:compute/instance:Instance": ["selfLink", "instanceId", "cpuPlatform"],
  "gcp:compute/firewall:Firewall": ["selfLink", "creationTimestamp"],
  "gcp:serviceaccount/account:Account": ["email", "uniqueId", "member"],
};

/** Optional inputs the provider fills in when they are not given (unknown in a plan only then). */
export const OPTIONAL_COMPUTED: Record<string, string[]> = {
  "aws:ec2/eip:Eip": ["privateIp", "networkInterface", "instance"],
  "aws:ec2/eipAssociation:EipAssociation": ["publicIp", "privateIpAddress"],
  "aws:ec2/instance:Instance": ["privateIp", "vpcSecurityGroupIds"],
  "aws:ec2/securityGroup:SecurityGroup": ["ingress", "egress"],
  "aws:ec2/networkInterface:NetworkInterface": ["privateIp", "privateIps"],
};

export const hasId = (type: string) => /^(aws|gcp|random|tls):/.test(type);

/** Planned outputs of a resource being created: its inputs plus every computed output unknown. */
export function plannedOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...inputs };
  for (const k of [...(COMPUTED_OUTPUTS[type] ?? []), ...(OPTIONAL_COMPUTED[type] ?? [])]) if (out[k] === undefined) out[k] = UNKNOWN_SENTINEL;
  if (hasId(type)) out["id"] = UNKNOWN_SENTINEL;
  return out;
}

function inputsOf(r: FixtureResource): Record<string, unknown> {
  const out = structuredClone(r.props);
  for (const k of [...(COMPUTED_OUTPUTS[r.type] ?? []), ...(hasId(r.type) ? ["id"] : [])]) delete out[k];
  return out;
}

/** Replaces every string that contains a computed value by the unknown sentinel; notes which props did. */
function blank(value: unknown, computed: Map<string, string>, hit: Set<string>): unknown {
  if (typeof value === "string") {
    for (const [v, urn] of computed)
      if (value === v || value.includes(v)) {
        hit.add(urn);
        return UNKNOWN_SENTINEL;
      }
    return value;
  }
  if (Array.isArray(value)) return value.map((x) => blank(x, computed, hit));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blank(v, computed, hit)]));
  return value;
}

/** A security group's state after refresh: standalone ingress rules on it appear inline too. */
export function refreshed<T extends FixtureResource>(stack: T[]): T[] {
  const rules = stack.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
  return stack.map((r) => {
    if (r.type !== "aws:ec2/securityGroup:SecurityGroup") return r;
    const mine = rules.filter((x) => x.props.securityGroupId === r.props.id);
    if (mine.length === 0) return r;
    const inline = mine.map((x) => ({
      protocol: x.props.ipProtocol,
      fromPort: x.props.fromPort ?? 0,
      toPort: x.props.toPort ?? 0,
      self: false,
      securityGroups: [],
      prefixListIds: [],
      cidrBlocks: x.props.cidrIpv4 ? [x.props.cidrIpv4] : [],
      ipv6CidrBlocks: x.props.cidrIpv6 ? [x.props.cidrIpv6] : [],
      description: x.props.description ?? "",
    }));
    return { ...r, props: { ...r.props, ingress: [...((r.props.ingress as unknown[] | undefined) ?? []), ...inline] } };
  });
}

/**
 * The stack (as captured after `up`) as one phase presents it, with a variant's change made where
 * the phase would see it: in a later preview the change is deployed state, so it is made before
 * the refresh that copies standalone rules into their security group.
 */
export function asPhase(stack: readonly FixtureResource[], phase: Phase, change: (s: PhasedResource[]) => PhasedResource[] = (s) => s): PhasedResource[] {
  const up = stack.map((r) => ({ ...structuredClone(r), inputs: inputsOf(r) }));
  if (phase === "up") return change(up);
  if (phase === "later-preview") return refreshed(change(up));
  return change(firstPreview(stack));
}

function firstPreview(stack: readonly FixtureResource[]): PhasedResource[] {
  // First preview: nothing exists yet; values derived from computed outputs are unknown.
  const computed = new Map<string, string>();
  for (const r of stack) {
    for (const k of [...(COMPUTED_OUTPUTS[r.type] ?? []), ...(hasId(r.type) ? ["id"] : [])]) {
      const v = r.props[k];
      if (typeof v === "string" && v.length >= 4) computed.set(v, r.urn);
    }
  }
  return stack.map((r) => {
    const deps: Record<string, string[]> = { ...(r.propertyDependencies ?? {}) };
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inputsOf(r))) {
      const hit = new Set<string>();
      inputs[k] = blank(v, computed, hit);
      if (hit.size > 0) deps[k] = [...new Set([...(deps[k] ?? []), ...hit])];
    }
    return { ...r, inputs, props: plannedOutputs(r.type, inputs), propertyDependencies: deps };
  });
}
