// Derives components/cilium/chartKeys/<version>.json (sorted dotted value-key paths) from
// the reference charts' values.yaml. Run by hand when a chart version is added:
//
//   npm run derive:chart-keys     (reads ../shared/reference/cilium-chart/<version>/values.yaml)
//
// The output is derived data (key names only, no values or prose) and is committed, so the
// tests never need the reference folder.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveChartKeyPaths } from "../components/cilium/chartKeyPaths";
import { SUPPORTED_CHART_VERSIONS } from "../components/cilium/chartVersions";

function main(argv: string[]): void {
  const [referenceDir, outDir] = argv;
  if (!referenceDir || !outDir) {
    throw new Error("usage: derive-chart-keys <reference-chart-dir> <output-dir>");
  }
  for (const version of Object.values(SUPPORTED_CHART_VERSIONS)) {
    const keys = deriveChartKeyPaths(readFileSync(join(referenceDir, version, "values.yaml"), "utf8"));
    const file = join(outDir, `${version}.json`);
    const body = { chart: "cilium", version, derivedBy: "scripts/derive-chart-keys.ts", keys };
    writeFileSync(file, JSON.stringify(body, null, 1) + "\n");
    console.log(`${file}: ${keys.length} keys`);
  }
}

main(process.argv.slice(2));
