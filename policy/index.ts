import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies/all";

new PolicyPack("wg-mesh-encryption", {
  description:
    "Rejects any stack configuration that leaves traffic between Kubernetes nodes unencrypted (Cilium WireGuard, node-router agent, underlay firewalls).",
  enforcementLevel: "mandatory",
  policies,
});
