// Which Cilium chart version a Helm source installs, and what the pack knows about versions: a
// floor made of data (security advisories that break the encryption this pack relies on, and the
// supported lines with the strict-mode keys each honours), each entry with its source.
import type { Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";

export interface Version {
  major: number;
  minor: number;
  patch: number;
  text: string;
}
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

/** A published advisory that defeats the encryption this pack relies on, and the first fixed release per affected line. */
export interface Advisory {
  id: string;
  summary: string;
  fixedIn: readonly string[];
  source: string;
}

export const ADVISORIES: readonly Advisory[] = [
  {
    id: "GHSA-v6q2-4qr3-5cw6",
    summary: "with WireGuard in native routing mode, traffic from the L7 proxy and DNS proxy to pods on other nodes is sent unencrypted",
    fixedIn: ["1.13.13", "1.14.8", "1.15.2"],
    source: "https://github.com/cilium/cilium/security/advisories/GHSA-v6q2-4qr3-5cw6",
  },
];

/** A chart line the pack knows, with the strict-mode keys it renders. */
export interface SupportedLine {
  line: string;
  strictKeys: "flat" | "egress" | "both";
  source: string;
}

/**
 * The lines this project supports (components/cilium/chartVersions.ts), each with the
 * strict-mode keys its chart renders (the reference charts' values.yaml). Older lines are below
 * the floor: they are out of Cilium's support window (https://docs.cilium.io/en/stable/community/roadmap/#release-cadence,
 * three minor lines), they carry fixed advisories, and the strict-mode keys the pack and
 * this program rely on do nothing or mean something else there.
 */
export const SUPPORTED_LINES: readonly SupportedLine[] = [
  { line: "1.17", strictKeys: "flat", source: "cilium/charts 1.17.18 values.yaml: encryption.strictMode.{enabled,cidr}" },
  { line: "1.18", strictKeys: "flat", source: "cilium/charts 1.18.12 values.yaml: encryption.strictMode.{enabled,cidr}" },
  { line: "1.19", strictKeys: "both", source: "cilium/charts 1.19.6 values.yaml: strictMode.egress.* added, flat keys deprecated" },
  { line: "1.20", strictKeys: "egress", source: "cilium/charts 1.20.0 values.yaml: flat strict-mode keys removed" },
];

/** Why a version is below the floor (advisories fixed later on its line, or a line below the supported ones); empty when it is not. */
export function belowFloor(v: Version): string[] {
  const out: string[] = [];
  for (const a of ADVISORIES) {
    const fix = a.fixedIn.map(parseVersion).find((f) => f !== undefined && f.major === v.major && f.minor === v.minor);
    const newest = a.fixedIn
      .map(parseVersion)
      .filter((f): f is Version => f !== undefined)
      .sort(compare)
      .pop();
    const affected = fix ? compare(v, fix) < 0 : newest !== undefined && (v.major < newest.major || (v.major === newest.major && v.minor < newest.minor));
    if (affected) out.push(`${a.id} (${a.summary}; fixed in ${fix ? fix.text : `${a.fixedIn.join(", ")}, not on the ${lineOf(v)} line`}; ${a.source})`);
  }
  const oldest = parseVersion(`${SUPPORTED_LINES[0].line}.0`)!;
  if (v.major < oldest.major || (v.major === oldest.major && v.minor < oldest.minor)) {
    out.push(
      `the ${lineOf(v)} line is below the supported lines ${SUPPORTED_LINES.map((l) => l.line).join(", ")} (out of Cilium's support window; ` +
        "its strict-mode keys do not do what this pack checks)",
    );
  }
  return out;
}
