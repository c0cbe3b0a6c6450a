// Stack policy: no node sits in a network whose pre-created rules the stack does not control.
//   - AWS: a node (instance or one of its network interfaces) in its VPC's default security
//     group: AWS creates that group with a rule admitting everything from its own members, so any
//     other member (another instance, a load balancer) reaches every port of the node in the
//     clear. Recognised by id (a DefaultSecurityGroup's id, a Vpc's defaultSecurityGroupId) or, at
//     preview, by a property dependency on a DefaultSecurityGroup; an instance that names no group
//     at all gets the default group too.
//   - GCP: a node in the `default` network (named, its `default` subnetworks, or no network at
//     all), whose pre-created default-allow-internal rule admits all traffic between instances.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { policyConfig, roleFields } from "../lib/config";
import { networkIndex } from "../lib/gcp-networks";
import { interfacesOf, addressIndex } from "../lib/node-addresses";
import { nodeResources } from "../lib/nodes";
import { fromPolicyResource, label, TYPES, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { asArray, at } from "../lib/values";

const NAME = "nodes-not-in-default-network";
const schema = z.object({ ...roleFields });
export type NodesNotInDefaultNetworkConfig = z.infer<typeof schema>;
const config = policyConfig(schema);
const VPC = "aws:ec2/vpc:Vpc";
const READS: ReadonlySet<string> = new Set([
  TYPES.awsInstance,
  TYPES.gcpInstance,
  TYPES.awsNetworkInterface,
  TYPES.awsNetworkInterfaceAttachment,
  TYPES.awsDefaultSecurityGroup,
  VPC,
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  "gcp:compute/network:Network",
  "gcp:compute/subnetwork:Subnetwork",
]);

export const nodesNotInDefaultNetwork: StackValidationPolicy = {
  name: NAME,
  description:
    "No node may be in its VPC's default security group (AWS) or the `default` network (GCP): their pre-created rules admit everything between members.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "AWS: give every node interface only the stack's node security groups (never vpc.defaultSecurityGroupId). GCP: put nodes in a network the stack creates.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    // Only the types it reads: converting every resource of a big stack is the cost of a stack policy.
    const resources = args.resources.filter((r) => READS.has(r.type)).map(fromPolicyResource);
    const nodes = nodeResources(resources, [], cfg).filter((r) => r.type === TYPES.awsInstance || r.type === TYPES.gcpInstance);
    if (nodes.length === 0) return;
    const notes = new UnknownNotes();
    const defaults = resources.filter((r) => r.type === TYPES.awsDefaultSecurityGroup);
    const vpcs = resources.filter((r) => r.type === VPC);
    const defaultIds = new Set<string>(
      [...defaults.map((g) => g.props["id"]), ...vpcs.map((v) => v.props["defaultSecurityGroupId"])].filter((x): x is string => typeof x === "string"),
    );
    const defaultUrns = new Set(defaults.map((g) => g.urn));
    const vpcUrns = new Set(vpcs.map((v) => v.urn));
    const ix = addressIndex(resources);
    const nets = networkIndex(resources);

    /** Judges one list of security groups (`field` of `owner`) of node `n`. */
    const judge = (n: Res, owner: Res, field: string, value: unknown, deps: readonly string[]) => {
      const list = asArray(value);
      const where = `${field} of ${label(owner)}`;
      if (isUnknown(list) || list.some(isUnknown)) {
        if (deps.some((u) => defaultUrns.has(u))) report(n, where, "the VPC's default security group");
        else if (deps.some((u) => vpcUrns.has(u))) notes.add(`the security groups in ${where} (one comes from a VPC, which may be its default group)`);
      }
      if (Array.isArray(list))
        for (const id of list) if (typeof id === "string" && defaultIds.has(id)) report(n, where, `the VPC's default security group ${id}`);
    };
    const report = (n: Res, where: string, what: string) =>
      reportViolation(
        `${label(n)}: ${where} includes ${what}, whose AWS-created rule admits ` +
          "everything from its other members, so they reach every port of this node in the clear; use only the stack's node security groups.",
        n.urn,
      );

    for (const n of nodes) {
      if (n.type === TYPES.gcpInstance) {
        const keys = nets.ofNode(n);
        if (keys.some((k) => nets.isDefault(k))) {
          reportViolation(
            `${label(n)}: networkInterfaces puts it in the 'default' network, whose pre-created default-allow-internal rule admits all traffic ` +
              "from every instance of that network in the clear; put nodes in a network the stack creates.",
            n.urn,
          );
        }
        continue;
      }
      const deps = (r: Res, k: string) => r.propertyDependencies[k] ?? [];
      let named = false;
      for (const k of ["vpcSecurityGroupIds", "securityGroups"]) {
        if (n.props[k] === undefined || (Array.isArray(n.props[k]) && (n.props[k] as unknown[]).length === 0)) continue;
        named = true;
        judge(n, n, k, n.props[k], deps(n, k));
      }
      const nis = asArray(n.props["networkInterfaces"]);
      if (Array.isArray(nis))
        nis.forEach((ni, i) => {
          if (at(ni, "securityGroups") !== undefined) {
            named = true;
            judge(n, n, `networkInterfaces[${i}].securityGroups`, at(ni, "securityGroups"), deps(n, "networkInterfaces"));
          }
        });
      const enis = interfacesOf(n, ix);
      for (const eni of enis) {
        named = true;
        judge(n, eni, "securityGroups", eni.props["securityGroups"], deps(eni, "securityGroups"));
      }
      if (enis.length > 0 || at(n.props, "primaryNetworkInterface") !== undefined) named = true;
      if (!named && n.props["vpcSecurityGroupIds"] !== undefined && isUnknown(n.props["vpcSecurityGroupIds"])) named = true;
      if (!named)
        report(n, "no security group (vpcSecurityGroupIds, securityGroups, interfaces)", "nothing, so AWS puts it in the VPC's default security group");
    }
    notes.finish();
  },
};
