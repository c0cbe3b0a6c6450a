// Advisory: a Cilium Helm value of the wrong type where a boolean belongs.
// Helm's `if` treats every non-empty string as true, even "false", and the chart then renders the
// text, which Cilium parses; the chart's values.schema.json expects a boolean, so Helm refuses
// the release. The mandatory policies already judge such values exactly as Helm and Cilium do
// (lib/cilium-helm.ts); this one says the value should be a boolean.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource, mayConfigureCilium } from "../lib/cilium";
import { fromResourceArgs, label, withAssets } from "../lib/resources";

export const ciliumValuesTypes: ResourceValidationPolicy = {
  name: "cilium-values-types",
  description: "Cilium Helm values that are booleans in the chart should be booleans, not strings or numbers.",
  enforcementLevel: "advisory",
  remediationSteps: "Write true or false without quotes (YAML) or as booleans (TypeScript).",
  validateResource: async (args, reportViolation) => {
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src || src.typeIssues.length === 0) return;
    reportViolation(
      `${label(src.res)}: ${src.typeIssues.join("; ")} where the chart expects a boolean; Helm's \`if\` treats any non-empty string ` +
        '(even "false") as true and the chart renders the text for Cilium to parse, and the chart\'s values.schema.json rejects it; write a boolean.',
    );
  },
};
