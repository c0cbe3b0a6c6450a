// Integration: the pack runs as the Pulumi CLI runs it (run-policy-pack, TypeScript loaded by the
// ts-node that @pulumi/pulumi vendors) and is driven over the analyzer gRPC protocol, with every
// fixture stack as each phase presents it (phases.ts) and each insecure variant in each phase.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import {
  analyze,
  analyzeStack,
  configure,
  configureFromFile,
  type Diagnostic,
  getAnalyzerInfo,
  getPluginInfo,
  type PackProcess,
  previewLike,
  startPack,
} from "./analyzer-client";
import { compliantProblems, variantProblems } from "./expectations";
import { byName, clone } from "./harness";
import { loadAllStacks } from "./fixtures/load";
import { variants } from "./fixtures/variants";
import { policies } from "../policies/all";
import { asPhase, PHASES } from "./phases";
import { scaleStack } from "./scale";

const PACK_DIR = join(__dirname, "..");
const stacks = loadAllStacks(join(__dirname, "fixtures", "stacks"));
const mandatory = (ds: Diagnostic[]) => ds.filter((d) => d.level === "mandatory");
const exampleConfig = JSON.parse(readFileSync(join(PACK_DIR, "config.example.json"), "utf8")) as Record<string, unknown>;

let pack: PackProcess;
beforeAll(async () => {
  pack = await startPack(PACK_DIR);
}, 120_000);
afterAll(async () => {
  await pack?.stop();
});

describe("policy pack over the analyzer protocol", () => {
  it("describes itself and its policies", async () => {
    expect((await getPluginInfo(pack.client)).getVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const info = await getAnalyzerInfo(pack.client);
    expect(info.getName()).toBe("wg-mesh-encryption");
    expect(info.getVersion()).toBe("0.1.0");
    const levels = Object.fromEntries(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]));
    expect(Object.keys(levels)).toHaveLength(policies.length);
    const advisory = [
      "cilium-strict-mode",
      "wireguard-keepalive",
      "cilium-values-types",
      "node-router-hardening",
      "api-server-not-public",
      "wireguard-port-from-nodes-only",
    ];
    for (const [name, level] of Object.entries(levels)) expect({ name, level }).toEqual({ name, level: advisory.includes(name) ? 0 : 1 }); // 0 ADVISORY, 1 MANDATORY
    const ds = info.getPoliciesList().find((p) => p.getName() === "node-router-daemonset");
    expect(ds?.getConfigschema()?.getProperties()?.toJavaScript()).toMatchObject({
      allowedExemptPorts: { default: ["6443", "2379-2380"] },
      wireguardDevice: { default: "cilium_wg0" },
    });
    await configure(pack.client, {});
  });

  const phased = stacks.flatMap((s) => PHASES.map((phase) => [s.file, phase, s.stack] as const));
  it.each(phased)("passes the shipped stack %s in %s without mandatory violations", async (_f, phase, stack) => {
    expect(compliantProblems(await previewLike(pack.client, asPhase(stack, phase)))).toEqual([]);
  });

  const cases = stacks.flatMap((s) => variants.flatMap((v) => PHASES.map((phase) => [s.file, v.name, phase, s.stack, v] as const)));
  it.each(cases)("%s with '%s' in %s", async (_f, _n, phase, stack, variant) => {
    expect(variantProblems(variant, phase, await previewLike(pack.client, asPhase(stack, phase, variant.apply)))).toEqual([]);
  });

  it("applies policy config sent with Configure (ports allow-list, enforcement level)", async () => {
    const base = asPhase(stacks[0].stack, "up");
    const extraPort = variants.find((v) => v.name === "extra exempt port")!.apply(base);
    const open10250 = variants.find((v) => v.name === "firewall opens TCP 10250 between nodes")!.apply(base);
    await configure(pack.client, {
      "node-router-daemonset": { props: { allowedExemptPorts: ["6443", "2379-2380", "10250"] } },
      "underlay-firewall-rules": { level: "advisory" },
    });
    try {
      expect(mandatory(await previewLike(pack.client, extraPort))).toEqual([]);
      const fw = (await previewLike(pack.client, open10250)).filter((d) => d.policy === "underlay-firewall-rules");
      expect(fw.map((d) => d.level)).toEqual(["advisory"]);
      expect(fw[0].message).toContain("TCP 10250");
    } finally {
      await configure(pack.client, {});
    }
  });

  it("makes strict mode and a public API mandatory with config.example.json, the production config", async () => {
    const base = asPhase(stacks[0].stack, "up");
    const strictOff = variants.find((v) => v.name === "[10] strict mode off")!.apply(base);
    const apiOpen = variants.find((v) => v.name === "[1] Kubernetes API open to the internet")!.apply(base);
    const levels = async (s: typeof base, policy: string) => (await previewLike(pack.client, s)).filter((d) => d.policy === policy).map((d) => d.level);
    expect(await levels(strictOff, "cilium-strict-mode")).toEqual(["advisory"]);
    await configureFromFile(pack.client, exampleConfig);
    try {
      expect(await levels(strictOff, "cilium-strict-mode")).toEqual(["mandatory"]);
      expect(await levels(apiOpen, "api-server-not-public")).toEqual(["mandatory"]);
      expect(compliantProblems(await previewLike(pack.client, base))).toEqual([]);
    } finally {
      await configure(pack.client, {});
    }
  });

  it("turns preview unknowns into an advisory 'could not be checked' instead of failing", async () => {
    const stack = clone(stacks[0].stack);
    const cilium = byName(stack, "cilium");
    (cilium.props.values as Record<string, Record<string, unknown>>).encryption.type = UNKNOWN_SENTINEL;
    const ds = (await analyze(pack.client, cilium)).filter((d) => d.policy === "cilium-wireguard-encryption");
    expect(ds).toHaveLength(1);
    expect(ds[0].level).toBe("advisory");
    expect(ds[0].message).toMatch(/could not be checked because values\.encryption\.type of 'cilium'.* is unknown at preview/);
    expect(mandatory(await analyzeStack(pack.client, stack))).toEqual([]);
  });

  it("evaluates a 1,000-resource stack (time printed, not asserted)", async () => {
    const big = scaleStack(stacks[0].stack, 1000);
    const t0 = performance.now();
    const perResource = await Promise.all(big.map((r) => analyze(pack.client, r)));
    const t1 = performance.now();
    const stackDiags = await analyzeStack(pack.client, big);
    const t2 = performance.now();
    console.log(
      `1,000 resources over gRPC: Analyze x1000 ${(t1 - t0).toFixed(0)} ms, AnalyzeStack ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms`,
    );
    expect(big).toHaveLength(1000);
    expect(mandatory([...perResource.flat(), ...stackDiags])).toEqual([]);
  });
});
