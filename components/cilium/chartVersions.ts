// Chart lines this project supports, each pinned to one exact chart version whose value
// keys are committed under chartKeys/. Adding a line = pin it here + run the key script.

/** Supported chart line -> the exact chart version installed for it. */
export const SUPPORTED_CHART_VERSIONS = {
  "1.17": "1.17.18",
  "1.18": "1.18.12",
  "1.19": "1.19.6",
  "1.20": "1.20.0",
} as const;

export type ChartLine = keyof typeof SUPPORTED_CHART_VERSIONS;
export type PinnedChartVersion = (typeof SUPPORTED_CHART_VERSIONS)[ChartLine];

/** Newest stable line; nothing in the 1.20.0 reference chart argues for staying on 1.19. */
export const DEFAULT_CHART_VERSION: PinnedChartVersion = SUPPORTED_CHART_VERSIONS["1.20"];

export interface ChartVersion {
  readonly line: ChartLine;
  readonly version: PinnedChartVersion;
}

const LINES = Object.keys(SUPPORTED_CHART_VERSIONS) as ChartLine[];

/** Every supported chart line with its pinned version, oldest first. */
export const SUPPORTED: readonly ChartVersion[] = LINES.map((line) => ({ line, version: SUPPORTED_CHART_VERSIONS[line] }));

/**
 * Resolves `cilium.version` from stack config: undefined -> the default pin; a line such as
 * "1.19" -> its pin; an exact pinned version is accepted as is. Any other version (another
 * patch release included) is rejected, because its value keys have not been verified.
 */
export function resolveChartVersion(requested?: string): ChartVersion {
  const wanted = (requested ?? DEFAULT_CHART_VERSION).trim().replace(/^v/, "");
  const found = SUPPORTED.find((entry) => entry.line === wanted || entry.version === wanted);
  if (!found) {
    const list = SUPPORTED.map((entry) => `${entry.version} (or "${entry.line}")`).join(", ");
    throw new Error(
      `cilium.version: chart version "${requested}" is not supported; use one of ${list}. ` +
        "To add a version, pin it in components/cilium/chartVersions.ts and derive its key list " +
        "with scripts/derive-chart-keys.ts.",
    );
  }
  return found;
}
