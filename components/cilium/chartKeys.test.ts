// Every value key the builder emits must exist in the chart it is installed with, checked
// against the committed key lists (derived from each chart's values.yaml).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isChartKey, leafKeyPaths } from "./chartKeyPaths";
import { DEFAULT_CHART_VERSION, SUPPORTED } from "./chartVersions";
import { buildCiliumValues, type CiliumValuesInput } from "./values";

function chartKeys(version: string): Set<string> {
  const file = JSON.parse(readFileSync(join(__dirname, "chartKeys", `${version}.json`), "utf8")) as { version: string; keys: string[] };
  expect(file.version).toBe(version);
  return new Set(file.keys);
}

// Every optional branch switched on, so every key the builder can emit is emitted.
const everything: CiliumValuesInput = {
  podCidrV4: "10.244.0.0/16",
  podCidrV6: "fd00:10:244::/56",
  nativeRoutingCidrV4: "10.0.0.0/8",
  ipamMode: "cluster-pool",
  k8sServiceHost: "api.example.internal",
  k8sServicePort: 6443,
  underlayMtus: { aws: 1500, gcp: 1460 },
  multiCloud: true,
  hubble: { enabled: true, relay: true, ui: true },
};

describe.each(SUPPORTED.map((entry) => [entry.version, entry.line]))("chart %s", (version) => {
  const keys = chartKeys(version);

  test("the committed key list is sorted, unique and substantial", () => {
    const list = [...keys];
    expect(list).toEqual([...list].sort());
    expect(list.length).toBeGreaterThan(1000);
  });

  test("every leaf key the builder emits exists in the chart", () => {
    for (const ipamMode of ["cluster-pool", "kubernetes"] as const) {
      const emitted = leafKeyPaths(buildCiliumValues({ ...everything, ipamMode, chartVersion: version }));
      expect(emitted.length).toBeGreaterThan(15);
      expect(emitted.filter((path) => !isChartKey(path, keys))).toEqual([]);
    }
  });
});

test("the key lists really differ where strict mode changed (so the check above has teeth)", () => {
  expect(chartKeys("1.18.12").has("encryption.strictMode.egress.cidr")).toBe(false);
  expect(chartKeys("1.19.6").has("encryption.strictMode.egress.cidr")).toBe(true);
  expect(chartKeys("1.20.0").has("encryption.strictMode.cidr")).toBe(false);
  // Emitting 1.17-style keys for the 1.20 chart must be caught.
  const old = leafKeyPaths(buildCiliumValues({ ...everything, chartVersion: "1.17" }));
  expect(old.filter((path) => !isChartKey(path, chartKeys("1.20.0")))).toEqual(
    expect.arrayContaining(["encryption.strictMode.enabled", "encryption.strictMode.cidr"]),
  );
});

test("the pinned default has a key list", () => {
  expect(chartKeys(DEFAULT_CHART_VERSION).has("encryption.wireguard.persistentKeepalive")).toBe(true);
});
