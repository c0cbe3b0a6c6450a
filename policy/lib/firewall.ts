// Ingress rules of every firewall flavour the pack reads, in one shape (firewall-types.ts):
// AWS security groups and their rule resources (firewall-aws.ts), GCP VPC firewalls and network
// firewall policies (firewall-gcp.ts). Egress rules are out of scope: they cannot admit traffic
// into a node. GCP deny rules are out of scope too: they only close.
import { awsIngressRules } from "./firewall-aws";
import { gcpIngressRules } from "./firewall-gcp";
import type { IngressRule } from "./firewall-types";
import type { Res } from "./resources";

export * from "./firewall-types";

/** Every ingress rule a resource defines (none for non-firewall resources). */
export function ingressRules(r: Res): IngressRule[] {
  if (r.type.startsWith("aws:")) return awsIngressRules(r);
  if (r.type.startsWith("gcp:")) return gcpIngressRules(r);
  return [];
}
