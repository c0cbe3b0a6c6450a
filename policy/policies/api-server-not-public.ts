// Advisory by default, mandatory by config: the Kubernetes API (TCP 6443) of
// node firewalls open to the whole internet (0.0.0.0/0, ::/0, or sources such as FQDNs and
// region codes). The API authenticates every client, so this is exposure, not cleartext: the
// pack says it, and production stacks make it mandatory in their --policy-pack-config.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isEverywhere } from "../lib/cidr";
import { policyConfig, portList, roleFields } from "../lib/config";
import { firewallContext, rulesAdmitting } from "../lib/firewall-scope";
import { formatPorts, parsePorts } from "../lib/ports";
import { fromPolicyResource } from "../lib/resources";
import { UnknownNotes } from "../lib/unknowns";

const NAME = "api-server-not-public";
const schema = z.object({
  apiPorts: portList.default(["6443"]).describe("TCP ports of the Kubernetes API server"),
  ...roleFields,
});
export type ApiServerNotPublicConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const apiServerNotPublic: StackValidationPolicy = {
  name: NAME,
  description: "The Kubernetes API (TCP 6443) should not be open to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "advisory",
  configSchema: config.configSchema,
  remediationSteps:
    "Admit TCP 6443 only from the nodes' addresses and your admin CIDRs (cluster.adminCidrs); set this policy's enforcementLevel to mandatory for production stacks.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    const ctx = firewallContext(args.resources.map(fromPolicyResource), cfg);
    const api = parsePorts(cfg.apiPorts);
    const notes = new UnknownNotes();
    for (const { rule, where } of rulesAdmitting(ctx, "tcp", api, notes)) {
      const open: string[] = [];
      for (const s of rule.sources.flatMap(ctx.expand)) {
        if (s.kind === "cidr" && isEverywhere(s.cidr)) open.push(s.via ? `${s.cidr} (in ${s.via})` : s.cidr);
        else if (s.kind === "external") open.push(s.what);
        else if (s.kind === "unknown") notes.add(`${s.what} of ${where}`);
        else if (s.kind === "opaque") notes.notVisible(s.what);
      }
      if (open.length > 0) {
        reportViolation(
          `${where}: admits the Kubernetes API (TCP ${formatPorts(api)}) from ${open.join(", ")}; ` + "limit it to the nodes and your admin CIDRs.",
          rule.origin.urn,
        );
      }
    }
    notes.finish();
  },
};
