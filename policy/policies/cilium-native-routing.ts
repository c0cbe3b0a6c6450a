// Native routing, no overlay (no double encapsulation inside WireGuard).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isCidr } from "../lib/cidr";
import { ciliumSource, scoped, mayConfigureCilium } from "../lib/cilium";
import { fromResourceArgs, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

export const ciliumNativeRouting: ResourceValidationPolicy = {
  name: "cilium-native-routing",
  description: "Cilium must use native routing without a VXLAN/Geneve overlay, with an IPv4 native-routing CIDR.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set Helm values routingMode: native, leave tunnelProtocol unset and set ipv4NativeRoutingCIDR to a CIDR covering every pod CIDR " +
    '(cilium-config: routing-mode: "native", ipv4-native-routing-cidr: <cidr>).',
  validateResource: async (args, reportViolation) => {
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src) return;
    const notes = new UnknownNotes();
    const who = label(src.res);
    const mode = src.routingMode;
    if (isUnknown(mode)) notes.add(`${src.field("routingMode")} of ${who}`);
    else if (mode !== "native" && !(src.partial && mode === undefined)) {
      reportViolation(
        `${who}: ${src.field("routingMode")} is ${mode === undefined || mode === "" ? "unset (default: tunnel/VXLAN overlay)" : `'${mode}'`}${scoped(src)}; ` +
          "an overlay double-encapsulates and hides node-to-node traffic from the agent; set it to native.",
      );
    }
    const tunnel = src.tunnelProtocol;
    // In a rendered ConfigMap the agent ignores tunnel-protocol in native mode; in Helm values it is intent.
    if (src.kind === "helm") {
      if (isUnknown(tunnel)) notes.add(`${src.field("tunnelProtocol")} of ${who}`);
      else if (tunnel !== undefined && tunnel !== "") {
        reportViolation(`${who}: ${src.field("tunnelProtocol")} is '${tunnel}'; leave it unset so no traffic is tunnelled.`);
      }
    }
    const cidr = src.nativeRoutingCidr;
    if (isUnknown(cidr)) notes.add(`${src.field("nativeRoutingCidr")} of ${who}`);
    else if (src.partial && cidr === undefined) {
      /* an override that leaves the CIDR alone */
    } else if (cidr === undefined || cidr === "") {
      reportViolation(`${who}: ${src.field("nativeRoutingCidr")} is unset; native routing needs it to cover every pod CIDR of the cluster.`);
    } else if (!isCidr(cidr)) {
      reportViolation(`${who}: ${src.field("nativeRoutingCidr")} '${cidr}' is not a CIDR; use e.g. 10.244.0.0/16.`);
    }
    notes.finish();
  },
};
