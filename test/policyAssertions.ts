// The policy pack, run as the Pulumi CLI runs it (run-policy-pack over the analyzer gRPC
// protocol), judges the resources the real program registered for a stack: no mandatory
// violation as shipped, and each insecure variant rejected by the policy that owns it.
import { join } from "node:path";
import type { Recorded } from "./pulumiMocks";
import { previewLike, startPack, type Diagnostic, type PackProcess } from "../policy/test/analyzer-client";
import type { FixtureResource } from "../policy/test/fixtures/load";
import { variants } from "../policy/test/fixtures/variants";

/**
 * The registered resources in the analyzer's shape, with the properties a `pulumi up` after
 * the first one shows (inputs and the mocks' outputs, e.g. allocated addresses).
 */
export function asPolicyResources(recorded: readonly Recorded[]): FixtureResource[] {
  return recorded.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.state, propertyDependencies: r.propertyDependencies }));
}

export function policyChecks(getRecorded: () => Recorded[]): void {
  describe("policy pack", () => {
    let pack: PackProcess;
    beforeAll(async () => { pack = await startPack(join(__dirname, "..", "policy")); }, 120_000);
    afterAll(async () => { await pack?.stop(); });
    const mandatory = (ds: Diagnostic[]) => ds.filter((d) => d.level === "mandatory");

    it("finds no mandatory violation in the stack as shipped", async () => {
      expect(mandatory(await previewLike(pack.client, asPolicyResources(getRecorded())))).toEqual([]);
    });

    it.each(variants.map((v) => [v.name, v] as const))("rejects the variant '%s'", async (_name, variant) => {
      const hits = mandatory(await previewLike(pack.client, variant.apply(asPolicyResources(getRecorded()))));
      expect(hits.map((d) => d.policy)).toContain(variant.rejectedBy);
    });
  });
}
