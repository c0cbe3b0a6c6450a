// A Helm post-renderer rewrites the rendered manifests after the values the pack
// reads, so it can undo any of them (turn WireGuard off, drop the agent's tolerations). Forbidden
// on the Cilium and node-router charts; render with values only, or deploy the post-rendered
// manifests as resources the pack can read (a yaml/v2 ConfigGroup).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { isAgentChart, mayBeAgent } from "../lib/agent";
import { isCiliumChart } from "../lib/cilium";
import { agentMatcher, policyConfig } from "../lib/config";
import { fromResourceArgs, label, TYPES } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

const NAME = "helm-postrender-forbidden";
const schema = z.object({ agent: agentMatcher });
const config = policyConfig(schema);

export const helmPostrenderForbidden: ResourceValidationPolicy = {
  name: NAME,
  description: "The Cilium and node-router Helm charts must not use a post-renderer, which can rewrite what the pack verified.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    "Remove `postrender` (helm.v3.Release) / `postRenderer` (helm.v4.Chart); express the change as chart values, or apply the manifests as Pulumi resources.",
  validateResource: (args, reportViolation) => {
    if (!mayBeAgent(args.type)) return;
    const cfg = config.read(args, NAME);
    const res = fromResourceArgs(args);
    if (res.type !== TYPES.helmRelease && res.type !== TYPES.helmChartV4) return;
    if (!isCiliumChart(res.props["chart"]) && !isAgentChart(res, cfg.agent)) return;
    const notes = new UnknownNotes();
    for (const key of ["postrender", "postRenderer"]) {
      const v = res.props[key];
      if (isUnknown(v)) notes.add(`${key} of ${label(res)}`);
      else if (v !== undefined && v !== null && v !== "" && !(typeof v === "object" && Object.keys(v).length === 0)) {
        reportViolation(
          `${label(res)}: ${key} is set, so the manifests Helm applies are not the ones its values describe; the pack cannot verify them; remove it.`,
        );
      }
    }
    notes.finish();
  },
};
