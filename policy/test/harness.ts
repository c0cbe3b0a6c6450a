// Runs policies directly (no gRPC), the way the analyzer server does: collect violations, turn the
// "could not be checked" error into an advisory note, and pass config through getConfig().
import * as policyRuntime from "@pulumi/policy";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { FixtureResource } from "./fixtures/load";

export interface Violation {
  message: string;
  urn?: string;
}
export interface Outcome {
  violations: Violation[];
  unchecked?: string;
}

const UnknownValueError = (policyRuntime as unknown as { UnknownValueError: new (...a: never[]) => Error }).UnknownValueError;

async function capture(run: (report: (message: string, urn?: string) => void) => unknown): Promise<Outcome> {
  const out: Outcome = { violations: [] };
  try {
    await run((message, urn) => out.violations.push({ message, urn }));
  } catch (e) {
    if (!(e instanceof UnknownValueError)) throw e;
    out.unchecked = e.message;
  }
  return out;
}

const OPTS = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** Runs a resource policy as Analyze does: on the resource's inputs (`inputs` when a phased fixture carries them). */
export function runResourcePolicy(
  policy: ResourceValidationPolicy,
  r: FixtureResource & { inputs?: Record<string, unknown> },
  config: object = {},
): Promise<Outcome> {
  const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  return capture(async (report) => {
    for (const v of validations) {
      await v(
        {
          type: r.type,
          name: r.name,
          urn: r.urn,
          props: r.inputs ?? r.props,
          opts: { ...OPTS, parent: r.parent },
          stackTags: new Map(),
          isType: () => false,
          asType: () => undefined,
          getConfig: <T>() => config as T,
          notApplicable: (reason?: string) => {
            throw new Error(`notApplicable: ${reason}`);
          },
        },
        report,
      );
    }
  });
}

export function toPolicyResources(stack: readonly FixtureResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const out = stack.map((r) => {
    const pr: PolicyResource = {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.props,
      opts: { ...OPTS, parent: r.parent },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    };
    byUrn.set(r.urn, pr);
    return pr;
  });
  stack.forEach((r, i) => {
    if (r.parent) out[i].parent = byUrn.get(r.parent);
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
      out[i].propertyDependencies[k] = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
    }
  });
  return out;
}

export function runStackPolicy(policy: StackValidationPolicy, stack: readonly FixtureResource[], config: object = {}): Promise<Outcome> {
  return capture((report) =>
    policy.validateStack(
      {
        resources: toPolicyResources(stack),
        stackTags: new Map(),
        getConfig: <T>() => config as T,
        notApplicable: (reason?: string) => {
          throw new Error(`notApplicable: ${reason}`);
        },
      },
      report,
    ),
  );
}

/** Runs every policy of the pack over a stack; returns outcomes keyed by policy name (violations merged). */
export async function runAll(
  policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[],
  stack: readonly FixtureResource[],
  config: Record<string, object> = {},
): Promise<Map<string, Outcome>> {
  const result = new Map<string, Outcome>();
  for (const p of policies) {
    const outcomes: Outcome[] = [];
    if ("validateResource" in p) for (const r of stack) outcomes.push(await runResourcePolicy(p, r, config[p.name]));
    if ("validateStack" in p) outcomes.push(await runStackPolicy(p, stack, config[p.name]));
    result.set(p.name, {
      violations: outcomes.flatMap((o) => o.violations),
      unchecked:
        outcomes
          .map((o) => o.unchecked)
          .filter((u) => u !== undefined)
          .join(" | ") || undefined,
    });
  }
  return result;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function byName(stack: FixtureResource[], name: string): FixtureResource {
  const r = stack.find((x) => x.name === name);
  if (!r) throw new Error(`fixture has no resource named ${name}`);
  return r;
}
