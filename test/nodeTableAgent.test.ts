// The node table and settings the program emits, read by the agent's own code (the authority,
// agent/src/nodeTable.ts and settings.ts): every shipped stack's published table parses; the
// DaemonSet's environment parses; and every node's boot ruleset is exactly what the agent renders
// from the published table's public addresses with the DaemonSet's settings, guarding every other node.
import { parseCloudConfig } from "./tools";
import { parseNodeTable } from "../agent/src/nodeTable";
import { parseSettings } from "../agent/src/settings";
import { GUARD_TABLE_REFS, guardElements, guardElementStatements, guardShape } from "../agent/src/guard";
import { ofType } from "./pulumiMocks";
import { runProgram, stackNames } from "./stackHarness";
import { bootGuardDocuments, instances, nodeNameOf, userDataOf } from "./userData";

describe.each(stackNames())("stack %s", (stack) => {
  it("publishes a table the agent parses, and settings from which the agent guards every other node", async () => {
    const run = await runProgram(stack);
    const configMap = ofType(run.recorded, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "node-router-node-table")!;
    const table = parseNodeTable(configMap.inputs.data["node-table.json"]);
    expect(table.nodes.length).toBe(instances(run.recorded).length);

    const ds = ofType(run.recorded, "kubernetes:apps/v1:DaemonSet").find((d) => d.inputs.metadata.name === "node-router")!;
    const env = Object.fromEntries(
      (ds.inputs.spec.template.spec.containers[0].env as { name: string; value?: string }[])
        .filter((e) => e.value !== undefined)
        .map((e) => [e.name, e.value!]),
    );
    const inPod = parseSettings([], { ...env, NODE_NAME: table.nodes[0].name });
    expect(inPod.nodeTable).toBe("/etc/node-router/node-table/node-table.json");

    for (const i of instances(run.recorded)) {
      const boot = parseCloudConfig(userDataOf(i));
      const file = (path: string) => boot.write_files.find((f) => f.path === path)!.content;
      // The boot ruleset: this node's shape with the pod's settings; the store: the published table's
      // first (public) addresses; both rendered by the agent's own code.
      const nodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses.slice(0, 1), controlPlane: n.role === "control-plane" }));
      const input = { localNodeName: nodeNameOf(i), nodes, podCidrs: table.podCidrs, settings: inPod };
      expect(file("/etc/wg-mesh/guard.nft")).toBe(guardShape(input));
      const stored = bootGuardDocuments(run.recorded)[i.type.startsWith("aws:") ? "aws" : "gcp"]!;
      expect(stored.trimEnd().split("\n").slice(1)).toEqual(guardElementStatements(guardElements({ ...input, localNodeName: "" }), GUARD_TABLE_REFS[0]));
      // What guard.sh leaves out of the underlay is what the agent does.
      const envFile = file("/etc/wg-mesh/bootstrap.env");
      const v = (k: string) => new RegExp(`^${k}='([^']*)'$`, "m").exec(envFile)![1];
      expect({ device: v("GUARD_DEVICE"), local: v("GUARD_LOCAL_INTERFACES") }).toEqual({ device: inPod.device, local: inPod.localInterfaces.join(",") });
    }
  }, 120_000);
});
