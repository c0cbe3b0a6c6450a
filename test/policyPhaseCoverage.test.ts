// Every shipped stack is judged by the policy pack in every phase: after `up` and in a later
// preview by its stack test (stackAssertions.ts), in a first preview by its own preview test,
// each with the --policy-pack-config CI passes for it (policy/config/<stack>.json).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stackNames } from "./stackHarness";

describe("policy pack phases cover every shipped stack", () => {
  it.each(stackNames())("stack %s has a first-preview test and the pack config CI uses", (stack) => {
    expect(existsSync(join(__dirname, "stacks", `${stack}.preview.test.ts`))).toBe(true);
    expect(existsSync(join(__dirname, "stacks", `${stack}.test.ts`))).toBe(true);
    expect(existsSync(join(__dirname, "..", "policy", "config", `${stack}.json`))).toBe(true);
  });
});
