// The second `pulumi up`: every shipped stack, run once, then again with each change a user
// makes on day two, starting from the first run's resources as the engine starts from
// state. Instance by instance, every input that forces a replacement (image, user data,
// zone, subnet, network interface, address) is compared, with the resource options
// captured by a stack transformation: no day-two change replaces an existing node, and
// the cluster keeps its identity (so Kubernetes resources are not re-created either).
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";
import { editConfig, runProgram, stackConfig, stackNames, type StackRun } from "./stackHarness";
import { replacements } from "./replacement";
import { instances, nodeNameOf, userDataOf } from "./userData";
import { readinessDiff } from "../components/cluster/apiServerReady";
import { dependsTransitively } from "./ordering";

type Config = Record<string, string>;
type Change = (c: Config) => Config;

const cloudWith = (c: Config, role: string): "aws" | "gcp" =>
  (["aws", "gcp"] as const).find(
    (k) => c[`wg-mesh-cluster:${k}`] !== undefined && JSON.parse(c[`wg-mesh-cluster:${k}`]).pools.some((p: any) => p.role === role),
  )!;

const growPool =
  (role: string): Change =>
  (c) =>
    editConfig(c, cloudWith(c, role), (v) => {
      v.pools.find((p: any) => p.role === role).count += 1;
      // One more static address: the quota check asks for it first (infra/quotas.ts).
      const total = v.pools.reduce((n: number, p: any) => n + p.count, 0);
      v.quotas = { ...v.quotas, ...(v.ami ? { elasticIps: Math.max(5, total) } : { staticAddresses: Math.max(8, total) }) };
    });

const dayTwo: Record<string, Change> = {
  // Nothing is looked up at deploy time; "a newer image appears" reaches a stack when its
  // owner pins it (scripts/pin-images.sh).
  "a newer image is pinned": (c) => {
    let out = c;
    if (c["wg-mesh-cluster:aws"])
      out = editConfig(out, "aws", (v) => {
        v.ami = "ami-0fedcba9876543210";
      });
    if (c["wg-mesh-cluster:gcp"])
      out = editConfig(out, "gcp", (v) => {
        v.image = "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20270101";
      });
    return out;
  },
  "a worker pool grows by one": growPool("worker"),
  "a control plane is added": (c) =>
    editConfig(growPool("control-plane")(c), "cluster", (v) => {
      v.allowEvenEtcdMembers = true;
    }),
  // One minor up: the roll upgrades the running nodes in place (test/upgradeRoll.test.ts).
  "the Kubernetes version changes": (c) =>
    editConfig(c, "cluster", (v) => {
      v.kubernetesVersion = "1.35.0";
    }),
  "the node-router image changes": (c) =>
    editConfig(c, "nodeRouter", (v) => {
      v.image = `ghcr.io/example/node-router@sha256:${"7a".repeat(32)}`;
    }),
  // The large-cluster mode switched on: only firewall rules change.
  "WireGuard is admitted from anywhere (cluster.wireguardFrom)": (c) =>
    editConfig(c, "cluster", (v) => {
      v.wireguardFrom = "anywhere";
    }),
};

const ready = (rs: readonly Recorded[]) => rs.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-api-ready"))!;

describe.each(stackNames())("stack %s, second run", (stack) => {
  let first: StackRun;
  beforeAll(async () => {
    first = await runProgram(stack);
  }, 120_000);

  it("with no change: identical inputs everywhere (the program is deterministic)", async () => {
    const again = await runProgram(stack, stackConfig(stack), false, first.recorded);
    const differing = again.recorded.filter((r) => {
      const before = first.recorded.find((b) => b.type === r.type && b.name === r.name);
      return !before || JSON.stringify({ ...before.inputs, __provider: 0 }) !== JSON.stringify({ ...r.inputs, __provider: 0 });
    });
    expect(differing.map((r) => r.name)).toEqual([]);
  }, 120_000);

  describe.each(Object.entries(dayTwo))("%s", (change, edit) => {
    let second: StackRun;
    beforeAll(async () => {
      second = await runProgram(stack, edit(stackConfig(stack)), false, first.recorded);
    }, 120_000);

    it("replaces no existing instance, network interface, subnet or address", () => {
      expect(replacements(first.recorded, second.recorded, second.options)).toEqual([]);
      for (const i of instances(first.recorded)) expect(second.recorded.some((r) => r.type === i.type && r.name === i.name)).toBe(true);
    });

    it("freezes every instance's image and user data, deletes before replacing, and asks to replace on nothing", () => {
      for (const i of instances(second.recorded)) {
        const o = second.options.find((x) => x.type === i.type && x.name === i.name)!;
        const frozen =
          i.type === "aws:ec2/instance:Instance"
            ? ["ami", "userDataBase64"]
            : ["bootDisk.initializeParams.image", 'metadata["user-data"]', "networkInterfaces[0].networkIp"];
        expect({
          node: nodeNameOf(i),
          ...o,
          deletedWith: undefined,
          dependsOn: undefined,
          type: undefined,
          name: undefined,
          additionalSecretOutputs: undefined,
        }).toEqual({
          node: nodeNameOf(i),
          ignoreChanges: frozen,
          replaceOnChanges: [],
          deleteBeforeReplace: true,
          deletedWith: undefined,
          dependsOn: undefined,
          type: undefined,
          name: undefined,
          additionalSecretOutputs: undefined,
        });
        // ... and the engine received exactly what the program set.
        expect(i.options).toMatchObject({ ignoreChanges: frozen, replaceOnChanges: [], deleteBeforeReplace: true });
      }
    });

    it("keeps the cluster's identity, so no Kubernetes resource is re-created", () => {
      const [a, b] = [ready(first.recorded), ready(second.recorded)];
      expect(readinessDiff(a.inputs, b.inputs as Parameters<typeof readinessDiff>[1])).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
      const provider = (rs: readonly Recorded[]) => ofType(rs, "pulumi:providers:kubernetes")[0];
      expect(provider(second.recorded).inputs.clusterIdentifier).toBe(provider(first.recorded).inputs.clusterIdentifier);
    });

    it("changes no input of an existing instance but those frozen (its boot files keep the table it booted with)", () => {
      for (const i of instances(first.recorded)) {
        const now = second.recorded.find((r) => r.type === i.type && r.name === i.name)!;
        const o = second.options.find((x) => x.type === i.type && x.name === i.name)!;
        const changed = Object.keys({ ...i.inputs, ...now.inputs }).filter(
          (k) => k !== "__provider" && JSON.stringify(i.inputs[k]) !== JSON.stringify(now.inputs[k]),
        );
        const frozenTop = o.ignoreChanges.map((p) => p.split(/[.[]/)[0]);
        expect({ node: nodeNameOf(i), unfrozen: changed.filter((k) => !frozenTop.includes(k)) }).toEqual({ node: nodeNameOf(i), unfrozen: [] });
      }
    });

    it("lists every node it adds in the node table ConfigMap, published before the node's instance is created (and not after it: no cycle)", () => {
      const configMap = ofType(second.recorded, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "node-router-node-table")!;
      const table = JSON.parse(configMap.inputs.data["node-table.json"]) as { nodes: { name: string }[] };
      expect(table.nodes.map((n) => n.name).sort()).toEqual(instances(second.recorded).map(nodeNameOf).sort());
      const added = instances(second.recorded).filter((x) => !first.recorded.some((f) => f.type === x.type && f.name === x.name));
      expect(added.length).toBe(/grows|added/.test(change) ? 1 : 0);
      for (const i of added) {
        expect({ node: nodeNameOf(i), waitsForTable: i.dependencies.includes(configMap.urn) }).toEqual({ node: nodeNameOf(i), waitsForTable: true });
        expect(dependsTransitively(second.recorded, configMap, i.urn)).toBe(false);
      }
    });

    it("renders current boot files for the nodes it adds (and adds none where the change adds none)", () => {
      const added = instances(second.recorded).filter((x) => !first.recorded.some((f) => f.type === x.type && f.name === x.name));
      expect(added.length).toBe(/grows|added/.test(change) ? 1 : 0);
      for (const i of added) expect(userDataOf(i)).toMatch(/^#cloud-config\n/);
    });
  });

  it("the comparison can fail: a node listed in cluster.replaceNodes, with a newer image, is rebuilt (and only it)", async () => {
    const config = stackConfig(stack);
    const worker = instances(first.recorded).find((i) => nodeNameOf(i).includes("-workers-"))!;
    const changed = editConfig(dayTwo["a newer image is pinned"](config), "cluster", (v) => {
      v.replaceNodes = [nodeNameOf(worker)];
    });
    const second = await runProgram(stack, changed, false, first.recorded);
    const replaced = replacements(first.recorded, second.recorded, second.options);
    expect([...new Set(replaced.map((r) => r.resource))]).toEqual([worker.name]);
    expect(replaced.map((r) => r.input)).toEqual(
      expect.arrayContaining([worker.type === "aws:ec2/instance:Instance" ? "ami" : "bootDisk.initializeParams.image"]),
    );
    const o = second.options.find((x) => x.type === worker.type && x.name === worker.name)!;
    expect(o.ignoreChanges).toEqual([]);
    expect(o.replaceOnChanges.length).toBeGreaterThan(0);
  }, 120_000);
});
