// The wait for every node is registered after Cilium and the node-router, for every node of
// the table with its cloud instance, and with the configured timeout.
import { ofType } from "./pulumiMocks";
import { editConfig, runProgram, stackConfig } from "./stackHarness";
import { dependsTransitively } from "./ordering";

it("NodesReady waits for every node's instance, after Cilium and the node-router, with cluster.nodesReadyTimeoutMinutes", async () => {
  const run = await runProgram(
    "multicloud",
    editConfig(stackConfig("multicloud"), "cluster", (c) => {
      c.nodesReadyTimeoutMinutes = 35;
    }),
  );
  const wait = ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name === "meshmc-nodes-ready")!;
  expect(wait).toBeDefined();
  expect(wait.inputs.timeoutMs).toBe(35 * 60_000);
  const instances = [...ofType(run.recorded, "aws:ec2/instance:Instance"), ...ofType(run.recorded, "gcp:compute/instance:Instance")];
  expect(wait.inputs.nodes.map((n: { instanceId: string }) => n.instanceId).sort()).toEqual(instances.map((i) => i.id).sort());
  expect(wait.inputs.nodes.find((n: { cloud: string }) => n.cloud === "gcp")).toMatchObject({ zone: "europe-west1-b", project: "my-gcp-project" });
  for (const i of instances) expect(dependsTransitively(run.recorded, wait, i.urn)).toBe(true);
  const release = (chart: string) => run.recorded.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name.includes(chart));
  const cilium = release("cilium");
  const daemonSet = ofType(run.recorded, "kubernetes:apps/v1:DaemonSet").find((d) => d.name.includes("node-router"));
  expect(cilium && daemonSet).toBeTruthy();
  expect(dependsTransitively(run.recorded, wait, cilium!.urn)).toBe(true);
  expect(dependsTransitively(run.recorded, wait, daemonSet!.urn)).toBe(true);
  expect(wait.sentInputs.kubeconfig).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
}, 120_000);
