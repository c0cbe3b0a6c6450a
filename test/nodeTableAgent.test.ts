// The node table and settings the program emits, read by the agent's own code (the authority,
// agent/src/nodeTable.ts and settings.ts): every shipped stack's published table parses; the
// DaemonSet's environment and the boot-time guard's flags parse; and the guard ruleset the
// agent builds from them guards every other node's address.
import { parseCloudConfig } from "./tools";
import { parseNodeTable } from "../agent/src/nodeTable";
import { parseSettings } from "../agent/src/settings";
import { guardRuleset } from "../agent/src/guard";
import { ofType } from "./pulumiMocks";
import { runProgram, stackNames } from "./stackHarness";
import { instances, nodeNameOf, userDataOf } from "./userData";

describe.each(stackNames())("stack %s", (stack) => {
  it("publishes a table the agent parses, and settings from which the agent guards every other node", async () => {
    const run = await runProgram(stack);
    const configMap = ofType(run.recorded, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "node-router-node-table")!;
    const table = parseNodeTable(configMap.inputs.data["node-table.json"]);
    expect(table.nodes.length).toBe(instances(run.recorded).length);

    const ds = ofType(run.recorded, "kubernetes:apps/v1:DaemonSet").find((d) => d.inputs.metadata.name === "node-router")!;
    const env = Object.fromEntries((ds.inputs.spec.template.spec.containers[0].env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const inPod = parseSettings([], { ...env, NODE_NAME: table.nodes[0].name });
    expect(inPod.nodeTable).toBe("/etc/node-router/node-table/node-table.json");

    for (const i of instances(run.recorded)) {
      const boot = parseCloudConfig(userDataOf(i));
      const envFile = boot.write_files.find((f) => f.path === "/etc/wg-mesh/bootstrap.env")!.content;
      const v = (k: string) => new RegExp(`^${k}='([^']*)'$`, "m").exec(envFile)![1];
      // The flags guard.sh passes to `guard apply`, as the agent parses them.
      const flags = ["--node-table", v("NODE_TABLE"), "--node-name", v("NODE_NAME"), "--device", v("GUARD_DEVICE"), "--wg-mark", v("GUARD_WG_MARK"), "--wg-mask", v("GUARD_WG_MASK"), "--exempt-ports", v("GUARD_EXEMPT_PORTS")];
      const atBoot = parseSettings(flags, {});
      expect({ device: atBoot.device, mark: atBoot.wgMark, mask: atBoot.wgMask, ports: atBoot.exemptPorts }).toEqual({ device: inPod.device, mark: inPod.wgMark, mask: inPod.wgMask, ports: inPod.exemptPorts });
      const bootTable = parseNodeTable(boot.write_files.find((f) => f.path === v("NODE_TABLE"))!.content);
      const nodes = bootTable.nodes.map((n) => ({ name: n.name, addresses: n.addresses, controlPlane: n.role === "control-plane" }));
      const ruleset = guardRuleset({ localNodeName: nodeNameOf(i), nodes, podCidrs: bootTable.podCidrs, settings: atBoot });
      for (const other of bootTable.nodes.filter((n) => n.name !== nodeNameOf(i))) expect(ruleset).toContain(other.addresses[0]);
    }
  }, 120_000);
});
