// Integration: the pack runs as the Pulumi CLI runs it (run-policy-pack, TypeScript loaded by the
// ts-node that @pulumi/pulumi vendors) and is driven over the analyzer gRPC protocol.
import { join } from "node:path";
import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { analyze, analyzeStack, configure, type Diagnostic, getAnalyzerInfo, getPluginInfo, type PackProcess, previewLike, startPack } from "./analyzer-client";
import { byName, clone } from "./harness";
import { loadAllStacks } from "./fixtures/load";
import { variants } from "./fixtures/variants";
import { scaleStack } from "./scale";

const PACK_DIR = join(__dirname, "..");
const stacks = loadAllStacks(join(__dirname, "fixtures", "stacks"));
const mandatory = (ds: Diagnostic[]) => ds.filter((d) => d.level === "mandatory");

let pack: PackProcess;
beforeAll(async () => { pack = await startPack(PACK_DIR); }, 120_000);
afterAll(async () => { await pack?.stop(); });

describe("policy pack over the analyzer protocol", () => {
  it("describes itself and its policies", async () => {
    expect((await getPluginInfo(pack.client)).getVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const info = await getAnalyzerInfo(pack.client);
    expect(info.getName()).toBe("wg-mesh-encryption");
    expect(info.getVersion()).toBe("0.1.0");
    const levels = Object.fromEntries(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]));
    expect(Object.keys(levels)).toHaveLength(12);
    expect(levels["no-long-lived-join-token"]).toBe(1); // MANDATORY
    expect(levels["cilium-strict-mode"]).toBe(0); // ADVISORY
    expect(levels["wireguard-keepalive"]).toBe(0);
    expect(levels["cilium-wireguard-encryption"]).toBe(1); // MANDATORY
    const ds = info.getPoliciesList().find((p) => p.getName() === "node-router-daemonset");
    expect(ds?.getConfigschema()?.getProperties()?.toJavaScript()).toMatchObject({ allowedExemptPorts: { default: ["6443", "2379-2380"] } });
    await configure(pack.client, {});
  });

  it.each(stacks.map((s) => [s.file, s.stack] as const))("passes the shipped stack %s without mandatory violations", async (_f, stack) => {
    expect(mandatory(await previewLike(pack.client, stack))).toEqual([]);
  });

  const cases = stacks.flatMap((s) => variants.map((v) => [s.file, v.name, v] as const));
  it.each(cases)("rejects %s with '%s'", async (_f, _n, variant) => {
    const stack = stacks.find((s) => s.file === _f)!.stack;
    const hits = mandatory(await previewLike(pack.client, variant.apply(stack)));
    expect(hits.map((d) => d.policy)).toContain(variant.rejectedBy);
  });

  it("applies policy config sent with Configure (ports allow-list, enforcement level)", async () => {
    const base = stacks[0].stack;
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

  it("turns preview unknowns into an advisory 'could not be checked' instead of failing", async () => {
    const stack = clone(stacks[0].stack);
    const cilium = byName(stack, "cilium");
    ((cilium.props.values as Record<string, Record<string, unknown>>).encryption).type = UNKNOWN_SENTINEL;
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
    console.log(`1,000 resources over gRPC: Analyze x1000 ${(t1 - t0).toFixed(0)} ms, AnalyzeStack ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms`);
    expect(big).toHaveLength(1000);
    expect(mandatory([...perResource.flat(), ...stackDiags])).toEqual([]);
  });
});
