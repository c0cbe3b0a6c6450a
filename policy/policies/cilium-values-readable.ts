// Every Helm values file of a Cilium chart must be readable by the pack: the effective
// configuration (lib/cilium-helm.ts) merges `valueYamlFiles` under `values`, and a StringAsset is
// read like `values`; a FileAsset or RemoteAsset (or text that is no YAML map) could set anything
// (`extraConfig: {enable-wireguard: "false"}`, `extraEnv`), so the configuration cannot be
// verified. That is a violation naming the release and the file, unless the stack's policy config
// lists the file (its path or URI) or the release (its name or URN) under `reviewed`.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { ciliumSource, mayConfigureCilium } from "../lib/cilium";
import { policyConfig } from "../lib/config";
import { fromResourceArgs, label, TYPES, withAssets } from "../lib/resources";
import { UnknownNotes } from "../lib/unknowns";

const NAME = "cilium-values-readable";
const schema = z.object({
  reviewed: z
    .array(z.string())
    .default([])
    .describe("Values files (FileAsset path or RemoteAsset URI) or Cilium releases (name or URN) whose unreadable values files a person has reviewed"),
});
export type CiliumValuesReadableConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

export const ciliumValuesReadable: ResourceValidationPolicy = {
  name: NAME,
  description: "Cilium Helm values the pack cannot read (a FileAsset or RemoteAsset values file) cannot be verified: inline them, or list them as reviewed.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps:
    'Pass the values as `values` or as a StringAsset in valueYamlFiles (e.g. new pulumi.asset.StringAsset(readFileSync(path, "utf8"))), ' +
    `or, once the file has been reviewed, list its path/URI (or the release) under \`reviewed\` in this policy's --policy-pack-config.`,
  validateResource: async (args, reportViolation) => {
    if (args.type !== TYPES.helmRelease && args.type !== TYPES.helmChartV4) return;
    if (!mayConfigureCilium(args.type)) return;
    const cfg = config.read(args, NAME);
    const src = ciliumSource(await withAssets(fromResourceArgs(args)));
    if (!src || !src.unreadable || src.unreadable.length === 0) return;
    const notes = new UnknownNotes();
    const who = label(src.res);
    const releaseReviewed = cfg.reviewed.includes(src.res.name) || cfg.reviewed.includes(src.res.urn);
    for (const u of src.unreadable) {
      if (u.unknown) {
        notes.add(`${u.field} (${u.what}) of ${who}`);
        continue;
      }
      if (releaseReviewed || (u.ref !== undefined && cfg.reviewed.includes(u.ref))) continue;
      reportViolation(
        `${who}: ${u.field} is ${u.what}, which the pack cannot read, so the Cilium configuration it sets (encryption, routing, ` +
          `extraConfig, extraEnv, extraArgs) cannot be verified; pass it as values or a StringAsset, or list ${u.ref !== undefined ? `'${u.ref}'` : `'${src.res.name}'`} ` +
          `under reviewed in ${NAME}'s policy config once reviewed.`,
      );
    }
    notes.finish();
  },
};
