// Workers' and control planes' cloud permissions are exactly those README lists: the table is
// checked against what every shipped stack registers, and nothing else grants a node anything.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ofType } from "./pulumiMocks";
import { IDENTITY_TYPES, permissionRows, readmeRows, rowKey } from "./permissions";
import { runProgram, stackNames } from "./stackHarness";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");

it("README's node-permissions table is exactly what the shipped stacks grant, and nothing else grants a node anything", async () => {
  const granted = new Set<string>();
  for (const stack of stackNames()) {
    const run = await runProgram(stack);
    for (const r of permissionRows(run.recorded)) granted.add(rowKey(r));
    const iamLike = run.recorded.filter((r) => /^(aws|gcp):/.test(r.type) && /iam|serviceaccount|organizations/i.test(r.type)).map((r) => r.type);
    expect([...new Set(iamLike)].filter((t) => !IDENTITY_TYPES.includes(t))).toEqual([]);
    for (const role of ofType(run.recorded, "aws:iam/role:Role")) {
      expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
      expect(role.inputs.inlinePolicies ?? []).toEqual([]);
    }
  }
  expect([...granted].sort()).toEqual([...new Set(readmeRows(readme))].sort());
}, 180_000);

it("the comparison can fail: a grant missing from README is reported", () => {
  const rows = readmeRows(readme);
  expect(rows.length).toBeGreaterThan(4);
  expect(rows.slice(1).sort()).not.toEqual([...rows].sort());
});
