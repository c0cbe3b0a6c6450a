import { upgradeRoll, type UpgradeNode } from "./plan";

const cp = (name: string): UpgradeNode => ({ name, role: "control-plane" });
const w = (name: string): UpgradeNode => ({ name, role: "worker" });

describe("the order of a roll", () => {
  const nodes = [cp("cp-0"), w("w-0"), cp("cp-1"), w("w-1"), cp("cp-2"), w("w-2"), w("w-3"), w("w-4")];

  it("snapshot first, control planes one by one (the first applies), then workers one at a time by default", () => {
    expect(upgradeRoll(nodes, 1).map((s) => [s.key, s.step, s.after.join(",")])).toEqual([
      ["snapshot", "snapshot", ""],
      ["cp-0", "first-control-plane", "snapshot"],
      ["cp-1", "control-plane", "cp-0"],
      ["cp-2", "control-plane", "cp-1"],
      ["w-0", "worker", "cp-2"],
      ["w-1", "worker", "w-0"],
      ["w-2", "worker", "w-1"],
      ["w-3", "worker", "w-2"],
      ["w-4", "worker", "w-3"],
    ]);
  });

  it("workers in batches of maxUnavailable, each batch after the whole one before", () => {
    const roll = upgradeRoll(nodes, 2).filter((s) => s.step === "worker");
    expect(roll.map((s) => [s.key, s.after.join(",")])).toEqual([
      ["w-0", "cp-2"],
      ["w-1", "cp-2"],
      ["w-2", "w-0,w-1"],
      ["w-3", "w-0,w-1"],
      ["w-4", "w-2,w-3"],
    ]);
  });

  it("takes the snapshot on the first control plane, and needs one", () => {
    expect(upgradeRoll([w("w-0"), cp("cp-9")], 1)[0]).toEqual({ key: "snapshot", node: "cp-9", step: "snapshot", after: [] });
    expect(() => upgradeRoll([w("w-0")], 1)).toThrow(/needs a control plane/);
    expect(() => upgradeRoll(nodes, 0)).toThrow(/maxUnavailable must be a whole number >= 1, not 0/);
  });
});
