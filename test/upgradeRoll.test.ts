// The roll of a version change as the program registers it (issue 27): one NodeUpgrade per step
// under the Upgrade component, chained by the dependencies the engine orders updates by
// (snapshot, control planes one by one, workers in batches), after the wait for every node;
// and, from a second run's inputs, what a rerun after a failure does: the steps already done
// have no diff, the roll resumes at the first step not done.
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";
import { editConfig, runProgram, stackConfig, type StackRun } from "./stackHarness";
import { nodeUpgradeDiff, type NodeUpgradeInputs } from "../components/cluster/upgrade/nodeUpgrade";

const STACK = "multicloud";
const steps = (run: StackRun) => ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").filter((r) => r.name.startsWith("meshmc-upgrade-"));
const key = (r: Recorded) => r.name.replace(/^meshmc-upgrade-/, "");
/** Each step's direct predecessors among the steps, by key (what its update waits for). */
const predecessors = (all: Recorded[], r: Recorded) =>
  all
    .filter((s) => r.dependencies.includes(s.urn))
    .map(key)
    .sort();

describe("the upgrade roll, registered", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runProgram(
      STACK,
      editConfig(stackConfig(STACK), "cluster", (c) => (c.upgrade = { maxUnavailable: 2 })),
    );
  }, 120_000);

  it("is one step per node and the snapshot, under the Upgrade component, in kubeadm's order", () => {
    const all = steps(run);
    const component = run.recorded.find((r) => r.type === "wg-mesh:cluster:Upgrade")!;
    expect(component.name).toBe("meshmc-upgrade");
    for (const s of all) expect(s.urn).toContain("wg-mesh:cluster:Upgrade$pulumi-nodejs:dynamic:Resource::");
    const order = all.map((s) => [key(s), s.inputs.step, s.inputs.node.name, predecessors(all, s).join(",")]);
    expect(order).toEqual([
      ["snapshot", "snapshot", "meshmc-aws-cp-0", ""],
      ["meshmc-aws-cp-0", "first-control-plane", "meshmc-aws-cp-0", "snapshot"],
      ["meshmc-aws-cp-1", "control-plane", "meshmc-aws-cp-1", "meshmc-aws-cp-0"],
      ["meshmc-aws-cp-2", "control-plane", "meshmc-aws-cp-2", "meshmc-aws-cp-1"],
      ["meshmc-aws-workers-0", "worker", "meshmc-aws-workers-0", "meshmc-aws-cp-2"],
      ["meshmc-aws-workers-1", "worker", "meshmc-aws-workers-1", "meshmc-aws-cp-2"],
      ["meshmc-gcp-workers-0", "worker", "meshmc-gcp-workers-0", "meshmc-aws-workers-0,meshmc-aws-workers-1"],
      ["meshmc-gcp-workers-1", "worker", "meshmc-gcp-workers-1", "meshmc-aws-workers-0,meshmc-aws-workers-1"],
    ]);
  });

  it("starts after the wait for every node, with each node's instance, the agent's image and the kubeconfig as a secret", () => {
    const all = steps(run);
    const wait = ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name === "meshmc-nodes-ready")!;
    expect(all[0].dependencies).toContain(wait.urn);
    const instances = [...ofType(run.recorded, "aws:ec2/instance:Instance"), ...ofType(run.recorded, "gcp:compute/instance:Instance")];
    for (const s of all.slice(1)) expect(instances.map((i) => i.id)).toContain(s.inputs.node.instanceId);
    const daemonSet = ofType(run.recorded, "kubernetes:apps/v1:DaemonSet").find((d) => d.name.includes("node-router"))!;
    const agentImage = daemonSet.inputs.spec.template.spec.containers[0].image;
    for (const s of all) {
      expect(s.inputs).toMatchObject({
        image: agentImage,
        namespace: "kube-system",
        kubernetesVersion: "1.34.2",
        drainTimeoutMs: 15 * 60_000,
        nodeTimeoutMs: 30 * 60_000,
      });
      expect(s.sentInputs.kubeconfig).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
    }
  });
});

describe("a version change, and a rerun after a failure", () => {
  let first: StackRun;
  let second: StackRun;
  beforeAll(async () => {
    first = await runProgram(STACK);
    second = await runProgram(
      STACK,
      editConfig(stackConfig(STACK), "cluster", (c) => (c.kubernetesVersion = "1.35.0")),
      false,
      first.recorded,
    );
  }, 120_000);

  const diffs = (olds: (i: number) => Recorded) =>
    steps(second).map((s, i) => [key(s), nodeUpgradeDiff(olds(i).inputs as NodeUpgradeInputs, s.inputs as NodeUpgradeInputs).changes] as const);

  it("changes every step, and nothing else about a node (no replacement)", () => {
    const before = steps(first);
    expect(steps(second).map(key)).toEqual(before.map(key));
    expect(diffs((i) => before[i]).every(([, changes]) => changes)).toBe(true);
    for (const [i, s] of steps(second).entries())
      expect(nodeUpgradeDiff(before[i].inputs as NodeUpgradeInputs, s.inputs as NodeUpgradeInputs).replaces).toEqual([]);
  });

  it("resumes at the first step not done: the steps before it (done, their state at the new version) have no diff", () => {
    const done = 3; // the snapshot and two control planes finished; the third failed
    const olds = (i: number) => (i < done ? steps(second)[i] : steps(first)[i]);
    expect(diffs(olds)).toEqual([
      ["snapshot", false],
      ["meshmc-aws-cp-0", false],
      ["meshmc-aws-cp-1", false],
      ["meshmc-aws-cp-2", true],
      ["meshmc-aws-workers-0", true],
      ["meshmc-aws-workers-1", true],
      ["meshmc-gcp-workers-0", true],
      ["meshmc-gcp-workers-1", true],
    ]);
  });

  it("a node rebuilt later is a replacement of its step, whose create does nothing (it boots the current versions)", () => {
    const s = steps(second)[4].inputs as NodeUpgradeInputs;
    expect(nodeUpgradeDiff(s, { ...s, node: { ...s.node, instanceId: "i-0rebuilt" } })).toEqual({
      changes: true,
      replaces: ["node"],
      deleteBeforeReplace: false,
    });
  });
});
