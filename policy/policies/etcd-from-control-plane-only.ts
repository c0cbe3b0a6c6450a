// etcd (TCP 2379-2380) is reachable only from control-plane nodes. Every source
// of a rule that admits an etcd port into a node must be a control-plane node: its own address
// (/32, /128), `self` on a control-plane group, a control-plane security group, GCP tag or
// service account. Ranges never qualify, however private: they hold more than the control plane.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { hostAddress, isCidr } from "../lib/cidr";
import { policyConfig, portList, roleFields } from "../lib/config";
import { type IngressRule } from "../lib/firewall";
import { firewallContext, rulesAdmitting, type FirewallContext, type NodeInfo } from "../lib/firewall-scope";
import { formatPorts, parsePorts, type PortRange } from "../lib/ports";
import type { Expanded } from "../lib/prefix-lists";
import { fromPolicyResource, label } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "etcd-from-control-plane-only";
const schema = z.object({
  etcdPorts: portList.default(["2379-2380"]).describe("etcd client and peer ports (TCP)"),
  ...roleFields,
});
export type EtcdFromControlPlaneOnlyConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

type Verdict = { ok: true } | { ok: false; why: string } | { unknown: string } | { hidden: string };

/** Every node in `nodes` is a control-plane node (and there is at least one). */
function allControlPlane(nodes: NodeInfo[], what: string): Verdict {
  if (nodes.length === 0) return { ok: false, why: `${what}, which no node of this stack carries` };
  const workers = nodes.filter((n) => n.role === "other");
  if (workers.length > 0)
    return {
      ok: false,
      why: `${what}, which non-control-plane node(s) ${workers
        .slice(0, 3)
        .map((n) => `'${n.res.name}'`)
        .join(", ")} carry`,
    };
  if (nodes.some((n) => isUnknown(n.role))) return { unknown: `the roles of the nodes behind ${what}` };
  return { ok: true };
}

function judge(s: Expanded, rule: IngressRule, ctx: FirewallContext): Verdict {
  const via = s.via ? ` (in ${s.via})` : "";
  switch (s.kind) {
    case "cidr": {
      if (!isCidr(s.cidr) && hostAddress(s.cidr) === undefined) return { ok: false, why: `'${s.cidr}'${via}, which is not a CIDR` };
      const host = hostAddress(s.cidr);
      if (host === undefined) return { ok: false, why: `the range ${s.cidr}${via}, which holds more than control-plane nodes` };
      const owner = ctx.nodeAt(host);
      if (owner)
        return owner.role === "control-plane"
          ? { ok: true }
          : isUnknown(owner.role)
            ? { unknown: `the role of ${label(owner.res)}` }
            : { ok: false, why: `${s.cidr}${via}, the address of non-control-plane node '${owner.res.name}'` };
      return ctx.addressesPending
        ? { unknown: `whether ${s.cidr}${via} is a control-plane node's address (node addresses)` }
        : { ok: false, why: `${s.cidr}${via}, which is no node's address in this stack` };
    }
    case "self": {
      const behind = ctx.nodesBehind(rule);
      if (behind.uncertain) return { unknown: `the members of the group targeted by ${label(rule.origin)}` };
      return allControlPlane(behind.nodes, "the group itself (self)");
    }
    case "group": {
      const g = ctx.findGroup(s.ref);
      if (!g)
        return s.ref.id !== undefined
          ? { hidden: `the members of security group ${s.ref.id} (not in this stack)` }
          : { unknown: "a referenced security group" };
      return allControlPlane(
        ctx.nodes.filter((n) => n.groups.includes(g)),
        `security group '${g.name}'`,
      );
    }
    case "tag":
      return allControlPlane(
        ctx.nodes.filter((n) => Array.isArray(n.gcpTags) && n.gcpTags.includes(s.tag)),
        `tag '${s.tag}'`,
      );
    case "service-account":
      return allControlPlane(
        ctx.nodes.filter((n) => Array.isArray(n.gcpAccounts) && n.gcpAccounts.includes(s.account)),
        `service account '${s.account}'`,
      );
    case "external":
      return { ok: false, why: s.what };
    case "opaque":
      return { hidden: s.what };
    case "unknown":
      return { unknown: `${s.what} of ${label(rule.origin)}${s.deps.length ? ` (computed from ${s.deps.map((u) => u.split("::").pop()).join(", ")})` : ""}` };
  }
}

export const etcdFromControlPlaneOnly: StackValidationPolicy = {
  name: NAME,
  description: "etcd (TCP 2379-2380) must be reachable only from control-plane nodes: no range, no worker, no 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Admit TCP 2379-2380 only from each control-plane node's own address (/32), `self` on the control-plane security group, " +
    "or the control-plane GCP tag; remove every other source from the rule.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const ctx = firewallContext(args.resources.map(fromPolicyResource), cfg);
    const etcd: PortRange[] = parsePorts(cfg.etcdPorts);
    const notes = new UnknownNotes();
    for (const { rule, where } of rulesAdmitting(ctx, "tcp", etcd, notes)) {
      const bad: string[] = [];
      for (const s of rule.sources.flatMap(ctx.expand)) {
        const v = judge(s, rule, ctx);
        if ("unknown" in v) notes.add(v.unknown);
        else if ("hidden" in v) notes.notVisible(v.hidden);
        else if ("why" in v) bad.push(v.why);
      }
      if (bad.length > 0) {
        reportViolation(
          `${where}: admits etcd (TCP ${formatPorts(etcd)}) from ${bad.join("; ")}; etcd must never be reachable from outside the control plane; ` +
            "admit it only from the control-plane nodes' own addresses, their security group or tag.",
          rule.origin.urn,
        );
      }
    }
    notes.finish();
  },
};
