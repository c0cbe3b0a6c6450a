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

it("every AWS instance carries its role's instance profile, whose role holds exactly its role's grants", async () => {
  const run = await runProgram("multicloud");
  const profiles = ofType(run.recorded, "aws:iam/instanceProfile:InstanceProfile");
  const roles = ofType(run.recorded, "aws:iam/role:Role");
  const instances = ofType(run.recorded, "aws:ec2/instance:Instance");
  expect(instances.length).toBeGreaterThan(0);
  for (const i of instances) {
    // The profile's name as the provider returns it (auto-named), not undefined.
    const profile = profiles.find((p) => p.state.name === i.inputs.iamInstanceProfile);
    expect(profile).toBeDefined();
    const role = roles.find((r) => r.state.name === profile!.inputs.role)!;
    const nodeRole = i.inputs.tags["wg-mesh/role"];
    expect(role.name).toBe(`${i.name.replace(/-aws-.*$/, "")}-aws-${nodeRole}`);
    const grants = ofType(run.recorded, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.id);
    expect(grants).toHaveLength(1);
  }
  expect(new Set(instances.map((i) => i.inputs.iamInstanceProfile)).size).toBe(2);
}, 120_000);
