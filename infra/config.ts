// Reads this project's keys out of the Pulumi stack config (structured values arrive as
// JSON strings) and validates them into the stack's model, before the program registers anything.
import * as pulumi from "@pulumi/pulumi";
import { validateStackConfig } from "./validate";
import type { StackModel } from "./model";

export function rawProjectConfig(all: Record<string, string>, project: string): Record<string, unknown> {
  const prefix = `${project}:`;
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(prefix)) continue;
    let value: unknown = v;
    try {
      value = JSON.parse(v);
    } catch {
      // a plain string value
    }
    raw[k.slice(prefix.length)] = value;
  }
  return raw;
}

/** The stack's model, validated; warnings go to the Pulumi log. */
export function loadConfig(): StackModel {
  const project = pulumi.getProject();
  const { model, warnings } = validateStackConfig(rawProjectConfig(pulumi.runtime.allConfig(), project), project);
  for (const w of warnings) void pulumi.log.warn(w);
  return model;
}
