// The policy pack on a shipped stack as the Pulumi CLI presents it in each phase
// (policy/test/phases.ts explains the phases):
//   - `up` and a later preview come from the program run under mocks that answers like a
//     provider after creation (test/pulumiMocks.ts): inputs as registered, outputs with ids;
//   - a first preview comes from a real preview run of the program (`isDryRun`), with mocks that
//     answer like a provider planning a create: no id and no outputs, so everything computed
//     from another resource is unknown in the inputs the engine would hand the analyzer,
//     exactly as they cross the wire (sentinels, secrets, property dependencies).
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configureFromFile, previewLike, startPack, type PackProcess } from "../policy/test/analyzer-client";
import { compliantProblems, configuredLevels, variantProblems } from "../policy/test/expectations";
import { variants } from "../policy/test/fixtures/variants";
import { hasId, plannedOutputs, refreshed, type Phase, type PhasedResource } from "../policy/test/phases";
import { UNKNOWN_SENTINEL } from "../policy/lib/unknowns";
import { DEFAULT_INVOKES, settle, type Recorded } from "./pulumiMocks";
import { projectName, stackConfig } from "./stackHarness";

type Change = (s: PhasedResource[]) => PhasedResource[];

/** `up` and later-preview presentations of a run under the post-create mocks (a variant's change deployed before the refresh). */
export function fromRecorded(recorded: readonly Recorded[], phase: "up" | "later-preview", change: Change = (s) => s): PhasedResource[] {
  const up = recorded.map((r): PhasedResource => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    inputs: structuredClone(r.inputs),
    props: { ...structuredClone(r.state), ...(hasId(r.type) ? { id: r.id } : {}) },
    propertyDependencies: r.propertyDependencies,
  }));
  return phase === "up" ? change(up) : refreshed(change(up));
}

/** Runs the program as `pulumi preview` of a new stack does, and returns what the analyzer would get (default: the shipped stack's config). */
export async function firstPreview(stack: string, config: Record<string, string> = stackConfig(stack)): Promise<PhasedResource[]> {
  const seen: PhasedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      // A create being planned: the provider knows no id and no outputs yet.
      newResource: () => ({ id: undefined as unknown as string, state: {} }),
      call: (args) => {
        if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0123456789abcdef0", name: "ubuntu-noble-24.04-amd64-server-20260101" };
        // The preflight's quota reads, as an account with room answers them.
        const answer = DEFAULT_INVOKES[args.token];
        if (answer) return answer(args.inputs);
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    projectName,
    stack,
    true,
    // The DIY backend's organization, as `pulumi preview` gives it to the program (it reads its own stack's outputs).
    "organization",
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    original(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      const deps: Record<string, string[]> = {};
      req.getPropertydependenciesMap().forEach((d: { getUrnsList(): string[] }, k: string) => {
        deps[k] = d.getUrnsList();
      });
      const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
      const type = req.getType() as string;
      if (resp) {
        seen.push({
          type,
          name: req.getName(),
          urn: resp.getUrn(),
          parent: req.getParent() || undefined,
          inputs,
          props: req.getCustom() ? plannedOutputs(type, inputs) : inputs,
          propertyDependencies: deps,
        });
      }
      callback(err, resp);
    });
  pulumi.runtime.setAllConfig(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { program } = require("../infra/program") as typeof import("../infra/program");
  await program();
  await settle();
  return seen;
}

/** The --policy-pack-config CI uses for a stack (policy/config/<stack>.json), if any. */
export function stackPackConfig(stack: string): Record<string, unknown> {
  const file = join(__dirname, "..", "policy", "config", `${stack}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
}

/**
 * The pack on a stack in a phase, configured as CI configures it for that stack: no mandatory
 * violation as shipped; every variant as it expects (at the levels that config sets).
 */
export function describePolicyPhase(phase: Phase, stack: () => string, present: (change?: Change) => PhasedResource[]): void {
  describe(`policy pack (${phase})`, () => {
    let pack: PackProcess;
    let levels: Record<string, string>;
    beforeAll(async () => {
      pack = await startPack(join(__dirname, "..", "policy"));
      const config = stackPackConfig(stack());
      levels = configuredLevels(config);
      await configureFromFile(pack.client, config);
    }, 120_000);
    afterAll(async () => {
      await pack?.stop();
    });

    it("finds no mandatory violation in the stack as shipped", async () => {
      expect(compliantProblems(await previewLike(pack.client, present()))).toEqual([]);
    });

    it.each(variants.map((v) => [v.name, v] as const))("variant '%s'", async (_name, variant) => {
      expect(variantProblems(variant, phase, await previewLike(pack.client, present(variant.apply)), levels)).toEqual([]);
    });
  });
}

/** A first preview of a shipped stack, from a real preview run of the program (`config`: the stack file's, or a change of it that `title` names). */
export function describeFirstPreview(stack: string, config?: Record<string, string>, title = `stack ${stack}`): void {
  describe(`${title}: first preview under mocks`, () => {
    let presented: PhasedResource[];
    beforeAll(async () => {
      presented = await firstPreview(stack, config);
    });

    it("presents what a first preview knows: ids, node addresses and the rules and prefix lists built from them are unknown", () => {
      const holdsAddresses = (r: PhasedResource) =>
        r.inputs?.cidrIpv4 === UNKNOWN_SENTINEL ||
        (Array.isArray(r.inputs?.sourceRanges) && r.inputs.sourceRanges.includes(UNKNOWN_SENTINEL)) ||
        (Array.isArray(r.inputs?.entries) && r.inputs.entries.some((e: { cidr?: unknown }) => e.cidr === UNKNOWN_SENTINEL));
      const unknownSources = presented.filter(holdsAddresses);
      expect(unknownSources.length).toBeGreaterThan(0);
      for (const r of unknownSources) expect(Object.values(r.propertyDependencies ?? {}).flat().length).toBeGreaterThan(0);
      expect(presented.filter((r) => hasId(r.type)).every((r) => r.props.id === UNKNOWN_SENTINEL)).toBe(true);
    });

    describePolicyPhase(
      "first-preview",
      () => stack,
      (change = (s) => s) => change(structuredClone(presented)),
    );
  });
}
