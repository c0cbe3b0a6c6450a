// Resources that moved into the Cluster when it began to publish in the cluster keep the state
// of where they were (infra/movedResources.ts): each is registered with an alias that is exactly
// the URN it had before, so an existing stack updates them instead of deleting and creating them
// (and, for the Kubernetes provider, every Kubernetes resource of the stack with it).
import { projectName, runProgram } from "./stackHarness";

it("the Kubernetes provider, the join-token Secret and the node table ConfigMap carry the URNs they had before the move", async () => {
  const run = await runProgram("aws");
  const name = "meshaws";
  const urn = (qualifiedType: string, n: string) => `urn:pulumi:aws::${projectName}::${qualifiedType}::${n}`;
  const moved = (type: string, n: string) => run.recorded.find((r) => r.type === type && r.name === n)!;
  const expected: [string, string, string][] = [
    // Children of the stack before: no parent type in their URNs.
    ["pulumi:providers:kubernetes", `${name}-k8s`, urn("pulumi:providers:kubernetes", `${name}-k8s`)],
    ["kubernetes:core/v1:Secret", `${name}-join-token`, urn("kubernetes:core/v1:Secret", `${name}-join-token`)],
    // A child of the NodeRouter before, named from it.
    ["kubernetes:core/v1:ConfigMap", `${name}-node-table`, urn("wg-mesh:nodeRouter:NodeRouter$kubernetes:core/v1:ConfigMap", `${name}-node-router-node-table`)],
  ];
  for (const [type, n, before] of expected) {
    const r = moved(type, n);
    expect([n, r.urn.startsWith(`urn:pulumi:aws::${projectName}::wg-mesh:cluster:Cluster$`), r.options.aliases]).toEqual([n, true, [before]]);
  }
  // Nothing else of the Cluster is aliased: the transformation matches these three only.
  const ofCluster = run.recorded.filter((r) => r.urn.includes("::wg-mesh:cluster:Cluster$") && r.options.aliases.length > 0);
  expect(ofCluster.map((r) => r.name).sort()).toEqual(expected.map(([, n]) => n).sort());
  // The rest of the program uses the Cluster's provider: the Cilium release, the DaemonSet.
  const provider = moved("pulumi:providers:kubernetes", `${name}-k8s`).urn;
  for (const r of run.recorded.filter((x) => x.type === "kubernetes:helm.sh/v3:Release" || x.type === "kubernetes:apps/v1:DaemonSet")) {
    expect([r.name, r.options.provider.startsWith(`${provider}::`)]).toEqual([r.name, true]);
  }
}, 120_000);
