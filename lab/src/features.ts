// Which settings the built agent knows (dist/agent/src/settings.js): the lab passes a new flag
// only to an agent that has it, so the same lab runs against the agent before and after a change
// (and a test that needs the flag says so instead of failing on "unknown option").
import { readFileSync } from "node:fs";
import { distFile } from "./exec";

let settingsText: string | undefined;

/** Does the built agent accept `--<flag>`? */
export function agentHasFlag(flag: string): boolean {
  settingsText ??= readFileSync(distFile("agent/src/settings.js"), "utf8");
  return settingsText.includes(`flag: "${flag}"`);
}
