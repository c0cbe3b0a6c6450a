import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodeRouterNodeTable as policy } from "./node-router-node-table";

type Table = { podCidrs: string[]; nodes: Array<{ name: string; role: string; addresses: string[] }> };
const editTable = (edit: (t: Table) => void) => {
  const s = baseline();
  const data = get(s, "node-router-node-table").props.data as Record<string, string>;
  const t = JSON.parse(data["node-table.json"]) as Table;
  edit(t);
  data["node-table.json"] = JSON.stringify(t);
  return s;
};
const messages = async (s: ReturnType<typeof baseline>) => (await runStackPolicy(policy, s)).violations.map((v) => v.message);

describe("node-router-node-table", () => {
  it("passes the baseline, whose entries also list private addresses", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects a table that omits a worker the stack creates, naming the ConfigMap, the field and the node", async () => {
    const ms = await messages(
      editTable((t) => {
        t.nodes = t.nodes.filter((n) => n.name !== "wgmesh-aws-worker-0");
      }),
    );
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatch(
      /^'node-router-node-table' \(urn:pulumi:.*\): data\["node-table\.json"\] has no entry for node 'wgmesh-aws-worker-0' \('wgmesh-aws-worker-0' \(urn:/,
    );
  });

  it("rejects an entry without the node's public address (AWS Elastic IP, GCP natIp)", async () => {
    expect(
      await messages(
        editTable((t) => {
          t.nodes[1].addresses = ["10.10.1.11"];
        }),
      ),
    ).toEqual([
      expect.stringContaining(
        "lists node 'wgmesh-aws-worker-0' ('wgmesh-aws-worker-0' (urn:pulumi:dev::wg-mesh-cluster::aws:ec2/instance:Instance::wgmesh-aws-worker-0)) with [\"10.10.1.11\"], without its public address 198.51.100.11",
      ),
    ]);
    expect(
      await messages(
        editTable((t) => {
          t.nodes[3].addresses = ["192.0.2.99"];
        }),
      ),
    ).toEqual([expect.stringContaining("without its public address 192.0.2.11")]);
  });

  it("rejects a table that is not JSON or has no nodes list", async () => {
    const s = baseline();
    (get(s, "node-router-node-table").props.data as Record<string, string>)["node-table.json"] = "{";
    expect(await messages(s)).toEqual([expect.stringContaining('data["node-table.json"] is not JSON')]);
  });

  it("does not require a bastion (an instance without the role tag) in the table", async () => {
    const s = baseline();
    const worker = get(s, "wgmesh-aws-worker-0");
    s.push({
      ...structuredClone(worker),
      name: "bastion",
      urn: worker.urn.replace(/::[^:]+$/, "::bastion"),
      props: { ...structuredClone(worker.props), id: "i-bastion", userData: "#!/bin/sh\n", tags: { Name: "bastion" } },
    });
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });

  it("reports a table or address unknown at preview as unchecked", async () => {
    const s = baseline();
    (get(s, "node-router-node-table").props.data as Record<string, string>)["node-table.json"] = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, s)).toMatchObject({ violations: [], unchecked: expect.stringContaining('data["node-table.json"]') });
    const a = baseline();
    get(a, "wgmesh-aws-worker-0-ip").props.publicIp = UNKNOWN_SENTINEL;
    expect(await runStackPolicy(policy, a)).toMatchObject({
      violations: [],
      unchecked: expect.stringContaining("the public address of 'wgmesh-aws-worker-0'"),
    });
  });
});
