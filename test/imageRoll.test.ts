// The image roll as the program registers it (issue 27): the stack records what each node was
// built from (its output nodeBuilds) and reads that record back through a StackReference to
// itself; a node recorded with another image than its cloud's configured one is rebuilt on the
// next run, one at a time, control planes first, each drained before and waited for after (a
// control plane also until etcd is whole), with its image and boot files live again. Under the
// mocks: what a run registers given the last run's outputs.
import type { Recorded } from "./pulumiMocks";
import { ofType, resolve, stackReads } from "./pulumiMocks";
import { editConfig, projectName, runProgram, stackConfig, SITE_PINS, type StackRun } from "./stackHarness";
import { instances, nodeNameOf } from "./userData";

const STACK = "multicloud";
const NEW_AMI = "ami-0fedcba9876543210";
const newAmi = (c: Record<string, string>) =>
  editConfig(c, "aws", (v) => {
    v.ami = NEW_AMI;
  });
const dynamic = (run: StackRun, kind: "drain" | "rejoin") =>
  ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").filter((r) => r.name.startsWith(`meshmc-rebuild-${kind}-`));
const nodeOf = (r: Recorded) => r.name.replace(/^meshmc-rebuild-(drain|rejoin)-/, "");
const optionsOf = (run: StackRun, node: string) => run.options.find((o) => /Instance$/.test(o.type) && o.name.endsWith(`-${node}`))!;
const builds = (run: StackRun) => resolve(run.outputs.nodeBuilds as never) as Promise<Record<string, { image: string; listed?: boolean }>>;

describe("the image roll", () => {
  let first: StackRun;
  let record: Record<string, { image: string }>;
  beforeAll(async () => {
    first = await runProgram(STACK);
    record = await builds(first);
  }, 120_000);

  it("a run reads the stack's own last outputs and records every node at its cloud's image", () => {
    expect(stackReads).toEqual([`organization/${projectName}/${STACK}`]);
    const nodes = instances(first.recorded).map(nodeNameOf);
    expect(Object.keys(record).sort()).toEqual([...nodes].sort());
    for (const node of nodes) expect({ node, ...record[node] }).toEqual({ node, image: node.includes("-aws-") ? SITE_PINS.ami : SITE_PINS.gcpImage });
    // A new stack: nothing to roll.
    expect(dynamic(first, "drain")).toEqual([]);
  });

  describe("the next run after a new aws.ami", () => {
    let next: StackRun;
    beforeAll(async () => {
      next = await runProgram(STACK, newAmi(stackConfig(STACK)), false, first.recorded, undefined, { lastOutputs: { nodeBuilds: record } });
    }, 120_000);

    it("rebuilds the AWS nodes one at a time, control planes first, each drained before and waited for after", () => {
      const order = ["meshmc-aws-cp-0", "meshmc-aws-cp-1", "meshmc-aws-cp-2", "meshmc-aws-workers-0", "meshmc-aws-workers-1"];
      const drains = dynamic(next, "drain");
      const rejoins = dynamic(next, "rejoin");
      expect(drains.map(nodeOf).sort()).toEqual([...order].sort());
      expect(rejoins.map(nodeOf).sort()).toEqual([...order].sort());
      order.forEach((node, i) => {
        const drain = drains.find((d) => nodeOf(d) === node)!;
        const instance = instances(next.recorded).find((x) => nodeNameOf(x) === node)!;
        expect({ node, waitsForDrain: instance.dependencies.includes(drain.urn) }).toEqual({ node, waitsForDrain: true });
        const after = drain.dependencies.filter((u) => rejoins.some((r) => r.urn === u)).map((u) => nodeOf(rejoins.find((r) => r.urn === u)!));
        expect({ node, after }).toEqual({ node, after: i === 0 ? [] : [order[i - 1]] });
        // Live again: the new AMI replaces the instance.
        expect(instance.inputs.ami).toBe(NEW_AMI);
        expect({ node, ignoreChanges: optionsOf(next, node).ignoreChanges }).toEqual({ node, ignoreChanges: [] });
        expect(optionsOf(next, node).replaceOnChanges).toContain("ami");
      });
    });

    it("waits for etcd after each control plane's rebuild (the etcd-health step, with the agent's image), not after a worker's", () => {
      const rejoins = dynamic(next, "rejoin");
      for (const r of rejoins) {
        const node = nodeOf(r);
        if (node.includes("-cp-"))
          expect({ node, check: r.inputs.etcdCheck }).toEqual({
            node,
            check: { image: SITE_PINS.agentImage, kubernetesVersion: expect.any(String), containerdVersion: expect.any(String) },
          });
        else expect({ node, check: r.inputs.etcdCheck }).toEqual({ node, check: undefined });
      }
    });

    it("leaves the GCP nodes frozen", () => {
      for (const i of instances(next.recorded).filter((x) => x.type.startsWith("gcp:"))) {
        const node = nodeNameOf(i);
        expect({ node, frozen: optionsOf(next, node).ignoreChanges.length > 0 }).toEqual({ node, frozen: true });
      }
    });

    it("tells the VersionGuard which nodes it rebuilds (a version change in this run is refused)", () => {
      const guard = ofType(next.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name === "meshmc-versions")!;
      expect(guard.inputs.rebuilding).toEqual(["meshmc-aws-cp-0", "meshmc-aws-cp-1", "meshmc-aws-cp-2", "meshmc-aws-workers-0", "meshmc-aws-workers-1"]);
    });

    it("records the new AMI for the AWS nodes; the run after rolls nothing", async () => {
      const after = await builds(next);
      for (const [node, b] of Object.entries(after)) expect({ node, ...b }).toEqual({ node, image: node.includes("-aws-") ? NEW_AMI : SITE_PINS.gcpImage });
      const settled = await runProgram(STACK, newAmi(stackConfig(STACK)), false, next.recorded, undefined, { lastOutputs: { nodeBuilds: after } });
      expect(dynamic(settled, "drain")).toEqual([]);
      expect(ofType(settled.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name === "meshmc-versions")!.inputs.rebuilding).toEqual([]);
    }, 120_000);
  });

  it("a node left in cluster.replaceNodes after its rebuild is not rebuilt again", async () => {
    const listed = (c: Record<string, string>) => editConfig(c, "cluster", (v) => (v.replaceNodes = ["meshmc-gcp-workers-1"]));
    const rebuilt = await runProgram(STACK, listed(stackConfig(STACK)), false, first.recorded, undefined, { lastOutputs: { nodeBuilds: record } });
    expect(dynamic(rebuilt, "drain").map(nodeOf)).toEqual(["meshmc-gcp-workers-1"]);
    const leftListed = await runProgram(STACK, listed(stackConfig(STACK)), false, rebuilt.recorded, undefined, {
      lastOutputs: { nodeBuilds: await builds(rebuilt) },
    });
    expect(dynamic(leftListed, "drain")).toEqual([]);
    expect(optionsOf(leftListed, "meshmc-gcp-workers-1").ignoreChanges.length).toBeGreaterThan(0);
  }, 240_000);
});

it("the only control plane is held at its image while the workers roll", async () => {
  const first = await runProgram("aws");
  const record = await builds(first);
  const next = await runProgram("aws", newAmi(stackConfig("aws")), false, first.recorded, undefined, { lastOutputs: { nodeBuilds: record } });
  const drains = ofType(next.recorded, "pulumi-nodejs:dynamic:Resource").filter((r) => r.name.startsWith("meshaws-rebuild-drain-"));
  expect(drains.map((d) => d.name.replace("meshaws-rebuild-drain-", "")).sort()).toEqual(["meshaws-aws-workers-0", "meshaws-aws-workers-1"]);
  expect((await builds(next))["meshaws-aws-cp-0"]).toEqual({ image: SITE_PINS.ami });
}, 240_000);
