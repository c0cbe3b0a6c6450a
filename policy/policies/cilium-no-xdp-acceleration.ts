// Cilium's XDP service acceleration (`loadBalancer.acceleration`, cilium-config
// `bpf-lb-acceleration`) must stay disabled: Cilium documents that traffic an intermediate node
// redirects to a backend on another node at the XDP layer is not encrypted by WireGuard. DSR
// with Geneve dispatch (`loadBalancer.mode: dsr`, `dsrDispatch: geneve`), which Cilium lists as
// encrypted, is not judged here. Read from the effective configuration (lib/cilium.ts: values,
// values files, extraConfig, extraEnv, extraArgs, ConfigMap, patches, CiliumNodeConfig).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource, mayConfigureCilium, scoped } from "../lib/cilium";
import { fromResourceArgs, label, withAssets } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

export const ciliumNoXdpAcceleration: ResourceValidationPolicy = {
  name: "cilium-no-xdp-acceleration",
  description: "Cilium's XDP load-balancer acceleration must be disabled: traffic it redirects to other nodes is not encrypted by WireGuard.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Remove loadBalancer.acceleration or set it to "disabled" (cilium-config: bpf-lb-acceleration: "disabled").',
  validateResource: async (args, reportViolation) => {
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src) return;
    const notes = new UnknownNotes();
    const accel = src.lbAcceleration;
    if (isUnknown(accel)) notes.add(`${src.field("lbAcceleration")} of ${label(src.res)}`);
    else if (accel !== undefined && accel !== "" && accel !== "disabled") {
      reportViolation(
        `${label(src.res)}: ${src.field("lbAcceleration")} is '${accel}'${scoped(src)}: XDP acceleration forwards service traffic to backends on ` +
          "other nodes before WireGuard sees it, so it crosses the underlay unencrypted; set it to disabled.",
      );
    }
    notes.finish();
  },
};
