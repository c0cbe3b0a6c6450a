// A floor under the Cilium chart version, as data (lib/cilium-versions.ts): a release below the
// fix of an advisory that breaks the encryption (e.g. GHSA-v6q2-4qr3-5cw6: proxy and DNS traffic
// to remote pods unencrypted with WireGuard in native routing before 1.14.8), or a line below the
// supported ones (whose strict-mode keys do not do what the pack checks), is rejected. An
// unpinned chart installs whatever is newest when it runs: it cannot be verified.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ciliumSource, mayConfigureCilium } from "../lib/cilium";
import { belowFloor, isVersion, SUPPORTED_LINES } from "../lib/cilium-versions";
import { fromResourceArgs, label, TYPES } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";

export const ciliumVersionFloor: ResourceValidationPolicy = {
  name: "cilium-version-floor",
  description: "The Cilium chart must be pinned to a supported line, at or above every fix of an advisory that breaks its encryption.",
  enforcementLevel: "mandatory",
  remediationSteps: `Pin the chart's version to a supported line (${SUPPORTED_LINES.map((l) => l.line).join(", ")}) at its latest patch release.`,
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.helmRelease && args.type !== TYPES.helmChartV4) return;
    if (!mayConfigureCilium(args.type)) return;
    const src = ciliumSource(fromResourceArgs(args));
    if (!src || src.kind !== "helm" || src.version === undefined) return;
    const who = label(src.res);
    const v = src.version;
    const notes = new UnknownNotes();
    if (isUnknown(v)) notes.add(`the chart version of ${who}`);
    else if (!isVersion(v)) {
      reportViolation(
        "unpinned" in v
          ? `${who}: version is unset, so the chart installs whatever release is newest when it runs, which the pack cannot verify; pin a version of a supported line.`
          : `${who}: version '${v.unparsable}' is not an exact chart version; pin one such as 1.20.0.`,
      );
    } else {
      for (const why of belowFloor(v))
        reportViolation(`${who}: version ${v.text} is below the floor: ${why}; upgrade to the latest patch of a supported line.`);
    }
    notes.finish();
  },
};
