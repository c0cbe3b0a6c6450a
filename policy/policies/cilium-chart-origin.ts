// The Cilium chart must come from the Cilium project's repositories (lib/cilium-chart-origin.ts):
// every Cilium policy judges the values by what the official chart renders from them, and a chart
// from elsewhere may render anything from the same values (`enable-wireguard` from another key,
// or not at all). Such a chart cannot be verified: a violation naming the release and where its
// chart comes from, unless the stack's policy config lists that repository or chart (or the
// release) under `reviewed` (a mirror that serves the official charts unchanged).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isCiliumChart } from "../lib/cilium";
import { chartOrigin, OFFICIAL_HELM_REPOSITORY, OFFICIAL_OCI_PREFIX } from "../lib/cilium-chart-origin";
import { policyConfig } from "../lib/config";
import { fromResourceArgs, label, TYPES } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "cilium-chart-origin";
const schema = z.object({
  reviewed: z
    .array(z.string())
    .default([])
    .describe(
      "Chart repositories or chart references (as written in the stack), or Cilium releases (name or URN), reviewed to serve Cilium's charts unchanged",
    ),
});
export type CiliumChartOriginConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const ciliumChartOrigin: ResourceValidationPolicy = {
  name: NAME,
  description: `The Cilium chart must come from Cilium's own repositories (${OFFICIAL_HELM_REPOSITORY}, ${OFFICIAL_OCI_PREFIX}/cilium): the pack cannot verify what another chart renders.`,
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    `Install the chart from ${OFFICIAL_HELM_REPOSITORY} (repositoryOpts.repo) or ${OFFICIAL_OCI_PREFIX}/cilium, ` +
    "or, for a mirror reviewed to serve the official charts unchanged, list the repository (as written) under `reviewed` in this policy's --policy-pack-config.",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.helmRelease && args.type !== TYPES.helmChartV4) return;
    const res = fromResourceArgs(args);
    if (!isCiliumChart(res.props["chart"])) return;
    const notes = new UnknownNotes();
    const origin = chartOrigin(res);
    const who = label(res);
    if (isUnknown(origin)) notes.add(`the chart and repository of ${who}`);
    else if (origin !== "official") {
      const cfg = config.read(args, NAME);
      const reviewed = [origin.ref, res.name, res.urn].some((x) => cfg.reviewed.includes(x));
      if (!reviewed) {
        reportViolation(
          `${who}: the chart comes from ${origin.what}, not Cilium's own repositories (${OFFICIAL_HELM_REPOSITORY}, ${OFFICIAL_OCI_PREFIX}/cilium), ` +
            `so the pack cannot verify what it renders from the values it judges; install it from there, or list '${origin.ref}' under reviewed in ${NAME}'s policy config once the mirror is reviewed.`,
        );
      }
    }
    notes.finish();
  },
};
