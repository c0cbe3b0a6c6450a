// Runs the real program for one stack file of stacks/ under Pulumi mocks.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { installMocks, settle, type Recorded } from "./pulumiMocks";

export const projectName = (parse(readFileSync(join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { name: string }).name;
export const stackNames = (): string[] =>
  readdirSync(join(__dirname, "..", "stacks")).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);

/** The stack file's config as Pulumi hands it to a program: structured values as JSON. */
export function stackConfig(stack: string): Record<string, string> {
  const doc = parse(readFileSync(join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

export interface StackRun {
  readonly recorded: Recorded[];
  readonly outputs: Record<string, pulumi.Output<unknown>>;
}

/** Runs the program with the given config (default: the stack file's). */
export async function runProgram(stack: string, config: Record<string, string> = stackConfig(stack), preview = false): Promise<StackRun> {
  const recorded = await installMocks(projectName, stack, preview);
  pulumi.runtime.setAllConfig(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { program } = require("../infra/program") as typeof import("../infra/program");
  const outputs = program() as unknown as Record<string, pulumi.Output<unknown>>;
  await settle();
  return { recorded, outputs };
}
