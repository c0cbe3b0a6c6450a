import { PolicyPack } from "@pulumi/policy";
import { installSharedProperties } from "./lib/shared-properties";
import { policies } from "./policies/all";

// Every policy reads the same deserialized properties of a request (lib/shared-properties.ts).
installSharedProperties();

new PolicyPack("wg-mesh-encryption", {
  description:
    "Rejects any stack configuration that leaves traffic between Kubernetes nodes unencrypted (Cilium WireGuard, node-router agent, underlay firewalls).",
  enforcementLevel: "mandatory",
  policies,
});
