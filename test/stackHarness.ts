// Runs the real program for one stack file of stacks/ under Pulumi mocks, inside a root
// stack resource as the Pulumi runtime does, with a stack transformation that captures
// every resource's options as the program sets them.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { TEST_IMAGE } from "./fixtures/images";
import { installMocks, settle, type InvokeAnswers, type Recorded, type RegisteredOutputs } from "./pulumiMocks";
import type { ProgramOptions } from "../infra/program";

export const projectName = (parse(readFileSync(join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { name: string }).name;
export const stackNames = (): string[] => readdirSync(join(__dirname, "..", "stacks")).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);

/**
 * What a user adds to a shipped stack before the first `pulumi up` (README, Quickstart):
 * the pinned images, recorded by scripts/pin-images.sh, and the agent image the workflow
 * built. The shipped stacks leave them out on purpose (the program refuses to guess them);
 * tests supply these made-up but well-formed values.
 */
export const SITE_PINS = {
  /** The operators' egress range (made up, but no documentation range: the preflight refuses those). */
  adminCidr: "100.64.7.0/24",
  ami: "ami-0abcdef1234567890",
  gcpImage: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101",
  agentImage: TEST_IMAGE,
} as const;

const key = (k: string) => `${projectName}:${k}`;

/** The stack file's config as Pulumi hands it to a program: structured values as JSON. */
export function shippedConfig(stack: string): Record<string, string> {
  const doc = parse(readFileSync(join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** The shipped stack with the site pins a user adds. */
export function stackConfig(stack: string): Record<string, string> {
  const config = shippedConfig(stack);
  const edit = (k: string, f: (v: any) => void) => {
    if (config[key(k)] === undefined) return;
    const v = JSON.parse(config[key(k)]);
    f(v);
    config[key(k)] = JSON.stringify(v);
  };
  edit("cluster", (v) => {
    v.adminCidrs ??= [SITE_PINS.adminCidr];
  });
  edit("aws", (v) => {
    v.ami ??= SITE_PINS.ami;
  });
  edit("gcp", (v) => {
    v.image ??= SITE_PINS.gcpImage;
  });
  const nodeRouter = config[key("nodeRouter")] ? JSON.parse(config[key("nodeRouter")]) : {};
  nodeRouter.image ??= SITE_PINS.agentImage;
  config[key("nodeRouter")] = JSON.stringify(nodeRouter);
  // TEST_IMAGE is made up and nothing pulls it: the image check is tested against a registry
  // stand-in (infra/preflight/registry.test.ts, test/preflight.test.ts), skipped here as an
  // air-gapped site would.
  config[key("preflight")] ??= JSON.stringify({ skip: ["imagePull"] });
  return config;
}

/** Edits one structured config value in place (a day-two change). */
export function editConfig(config: Record<string, string>, k: string, f: (v: any) => void): Record<string, string> {
  const copy = { ...config };
  const v = JSON.parse(copy[key(k)]);
  f(v);
  copy[key(k)] = JSON.stringify(v);
  return copy;
}

/** Resource options as the program set them, captured by a stack transformation. */
export interface CapturedOptions {
  readonly type: string;
  readonly name: string;
  readonly ignoreChanges: string[];
  readonly replaceOnChanges: string[];
  readonly deleteBeforeReplace: boolean;
  readonly deletedWith?: pulumi.Resource;
  readonly dependsOn: unknown;
  /** Outputs the resource's options make secret (the SDK adds a type's secret-by-default outputs here). */
  readonly additionalSecretOutputs: string[];
}

export interface StackRun {
  readonly recorded: Recorded[];
  readonly options: CapturedOptions[];
  readonly outputs: Record<string, pulumi.Output<unknown>>;
  /** Every component's registered outputs (they are in state too). */
  readonly componentOutputs: RegisteredOutputs[];
}

/** What a test changes of the world the program runs in. */
export interface HarnessOptions {
  /** The clouds' answers to the preflight's reads (default: generous quotas, nothing else allocated). */
  readonly invokes?: InvokeAnswers;
  /** The program's test-only options (the registry stand-in's scheme). */
  readonly program?: ProgramOptions;
  /** The stack's outputs after its last run, as the program reads them back (default: none, a new stack). */
  readonly lastOutputs?: Record<string, unknown>;
}

/**
 * Runs the program with the given config (default: the stack file's plus the site pins).
 * `previous` makes it a later `pulumi up` of the same stack (see installMocks).
 */
export async function runProgram(
  stack: string,
  config: Record<string, string> = stackConfig(stack),
  preview = false,
  previous: readonly Recorded[] = [],
  tamper?: pulumi.ResourceTransformation,
  harness: HarnessOptions = {},
): Promise<StackRun> {
  const componentOutputs: RegisteredOutputs[] = [];
  const recorded = await installMocks(projectName, stack, preview, previous, componentOutputs, harness.invokes, harness.lastOutputs);
  pulumi.runtime.setAllConfig(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { program } = require("../infra/program") as typeof import("../infra/program");
  const options: CapturedOptions[] = [];
  let outputs: Record<string, pulumi.Output<unknown>> = {};
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    // A control case's deliberate change: registered first, so the capture below sees it.
    if (tamper) pulumi.runtime.registerStackTransformation(tamper);
    pulumi.runtime.registerStackTransformation((args) => {
      const o = args.opts as pulumi.CustomResourceOptions;
      options.push({
        type: args.type,
        name: args.name,
        ignoreChanges: [...(o.ignoreChanges ?? [])],
        replaceOnChanges: [...(o.replaceOnChanges ?? [])],
        deleteBeforeReplace: o.deleteBeforeReplace === true,
        deletedWith: o.deletedWith,
        dependsOn: o.dependsOn,
        additionalSecretOutputs: [...(o.additionalSecretOutputs ?? [])],
      });
      return undefined;
    });

    try {
      outputs = (await program(harness.program)) as unknown as Record<string, pulumi.Output<unknown>>;
    } catch (e) {
      failure = e;
    }
    return undefined;
  });
  if (failure !== undefined) throw failure;
  await settle();
  return { recorded, options, outputs, componentOutputs };
}
