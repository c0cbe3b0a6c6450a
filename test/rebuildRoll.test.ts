// Nodes rebuilt through cluster.replaceNodes, as the program registers them (issue 27): one at a
// time, control planes first, each drained before its new instance (the instance depends on its
// RebuildDrain) and waited for after (RebuildRejoin depends on the new instance), the next
// node's drain after the previous node's rejoin. The drain's request is a digest of what the
// node is rebuilt with: the same on a rerun (a node left listed is not drained again), new when
// the image changes (drained again before the next rebuild). No node listed: none of it, so a new
// cluster's nodes are still created in parallel.
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";
import { editConfig, runProgram, stackConfig, type StackRun } from "./stackHarness";
import { instances, nodeNameOf } from "./userData";

const STACK = "multicloud";
const LISTED = ["meshmc-gcp-workers-1", "meshmc-aws-workers-0", "meshmc-aws-cp-1"];
const listed = (c: Record<string, string>) => editConfig(c, "cluster", (v) => (v.replaceNodes = LISTED));
const dynamic = (run: StackRun, kind: "drain" | "rejoin") =>
  ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").filter((r) => r.name.startsWith(`meshmc-rebuild-${kind}-`));
const nodeOf = (r: Recorded) => r.name.replace(/^meshmc-rebuild-(drain|rejoin)-/, "");
const instanceOf = (run: StackRun, node: string) => instances(run.recorded).find((i) => nodeNameOf(i) === node)!;

describe("nodes listed in cluster.replaceNodes", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runProgram(STACK, listed(stackConfig(STACK)));
  }, 120_000);

  it("are drained and rejoined one at a time, control planes first, in the cluster's order", () => {
    const drains = dynamic(run, "drain");
    const rejoins = dynamic(run, "rejoin");
    expect(drains.map(nodeOf).sort()).toEqual([...LISTED].sort());
    expect(rejoins.map(nodeOf).sort()).toEqual([...LISTED].sort());
    const order = ["meshmc-aws-cp-1", "meshmc-aws-workers-0", "meshmc-gcp-workers-1"];
    order.forEach((node, i) => {
      const drain = drains.find((d) => nodeOf(d) === node)!;
      const rejoin = rejoins.find((r) => nodeOf(r) === node)!;
      const instance = instanceOf(run, node);
      expect({ node, instanceWaitsForDrain: instance.dependencies.includes(drain.urn) }).toEqual({ node, instanceWaitsForDrain: true });
      // Its own instance only: a rejoin waiting for every instance would wait for the next
      // node's, which waits (through its drain) for this rejoin: a cycle.
      const instanceUrns = instances(run.recorded).map((x) => x.urn);
      expect({ node, rejoinWaitsFor: rejoin.dependencies.filter((u) => instanceUrns.includes(u)) }).toEqual({ node, rejoinWaitsFor: [instance.urn] });
      const previous = order[i - 1];
      const waitsFor = drain.dependencies.filter((u) => rejoins.some((r) => r.urn === u)).map((u) => nodeOf(rejoins.find((r) => r.urn === u)!));
      expect({ node, drainWaitsFor: waitsFor }).toEqual({ node, drainWaitsFor: previous ? [previous] : [] });
      expect(drain.inputs).toMatchObject({ node, drainTimeoutMs: 15 * 60_000 });
      expect(drain.inputs.request).toMatch(/^[0-9a-f]{16}$/);
      expect(rejoin.inputs.node).toMatchObject({ name: node, instanceId: instance.id });
      expect(drain.sentInputs.kubeconfig).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
    });
  });

  it("an unlisted node's instance waits for no drain", () => {
    const drains = dynamic(run, "drain").map((d) => d.urn);
    for (const i of instances(run.recorded).filter((x) => !LISTED.includes(nodeNameOf(x))))
      expect({ node: nodeNameOf(i), drains: i.dependencies.filter((u) => drains.includes(u)) }).toEqual({ node: nodeNameOf(i), drains: [] });
  });

  it("the drain's request: the same on a rerun (a node left listed is not drained again), new with a newer image", async () => {
    const again = await runProgram(STACK, listed(stackConfig(STACK)), false, run.recorded);
    const request = (r: StackRun, node: string) => dynamic(r, "drain").find((d) => nodeOf(d) === node)!.inputs.request;
    for (const node of LISTED) expect(request(again, node)).toBe(request(run, node));
    const newer = await runProgram(
      STACK,
      listed(
        editConfig(stackConfig(STACK), "aws", (v) => {
          v.ami = "ami-0fedcba9876543210";
        }),
      ),
      false,
      run.recorded,
    );
    expect(request(newer, "meshmc-aws-workers-0")).not.toBe(request(run, "meshmc-aws-workers-0"));
    expect(request(newer, "meshmc-gcp-workers-1")).toBe(request(run, "meshmc-gcp-workers-1"));
  }, 240_000);
});

it("with no node listed, nothing waits for a drain (a new cluster's nodes are created in parallel)", async () => {
  const run = await runProgram(STACK);
  expect(dynamic(run, "drain")).toEqual([]);
  expect(dynamic(run, "rejoin")).toEqual([]);
}, 120_000);
