// Which Cilium chart version a Helm source installs, and what the pack knows about versions: a
// floor made of data (security advisories that break the encryption this pack relies on, and the
// supported lines with the strict-mode keys each honours), each entry with its source.
import type { Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";

export interface Version { major: number; minor: number; patch: number; text: string }
/** The version a chart source pins: parsed, UNKNOWN at preview, "unpinned" (latest at install time) or "unparsable". */
export type ChartVersion = Version | Unknown | { unpinned: true } | { unparsable: string };

export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: text.trim().replace(/^v/, "") } : undefined;
}

export const isVersion = (v: ChartVersion | undefined): v is Version => v !== undefined && !isUnknown(v) && "major" in v;

/** `version` of a Release / v4 Chart, or the version in a chart archive's name (cilium-1.18.2.tgz). */
export function chartVersion(res: Res): ChartVersion {
  const own = res.props["version"];
  if (isUnknown(own)) return UNKNOWN;
  if (typeof own === "string" && own.trim() !== "") return parseVersion(own) ?? { unparsable: own };
  const chart = res.props["chart"];
  if (isUnknown(chart)) return UNKNOWN;
  const m = typeof chart === "string" ? /cilium-(v?\d+\.\d+\.\d+[^/]*?)\.tgz$/.exec(chart) : null;
  if (m) return parseVersion(m[1]) ?? { unparsable: m[1] };
  return { unpinned: true };
}

export function compare(a: Version, b: Pick<Version, "major" | "minor" | "patch">): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const lineOf = (v: Pick<Version, "major" | "minor">) => `${v.major}.${v.minor}`;

/**
 * Which strict-mode keys a chart line renders (reference charts' values.yaml, cilium-configmap.yaml):
 * flat `encryption.strictMode.*` up to 1.18, both in 1.19 (flat deprecated), `strictMode.egress.*`
 * from 1.20 (flat removed). An unknown version reads both.
 */
export function strictKeysOf(v: ChartVersion | undefined): "flat" | "egress" | "both" {
  if (!isVersion(v)) return "both";
  if (v.major === 1 && v.minor <= 18) return "flat";
  if (v.major === 1 && v.minor === 19) return "both";
  return "egress";
}
