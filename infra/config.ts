// Reads this project's keys out of the Pulumi stack config (structured values arrive as
// JSON strings) and validates them, before the program registers anything.
import * as pulumi from "@pulumi/pulumi";
import { validateStackConfig, type ValidatedConfig } from "./validate";

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

export function loadConfig(): ValidatedConfig {
  const project = pulumi.getProject();
  const validated = validateStackConfig(rawProjectConfig(pulumi.runtime.allConfig(), project), project);
  for (const w of validated.warnings) void pulumi.log.warn(w);
  return validated;
}
