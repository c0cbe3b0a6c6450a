// Every dynamic provider of the program, as `pulumi up` runs it: the serialized text the
// program registered (pulumi.runtime.serializeFunction, through pulumi.dynamic.Resource), loaded
// in a fresh Node process the way the CLI's dynamic-provider host loads it, through its
// methods, against local stand-ins (a TLS API server with its own CA for the readiness wait).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ofType, type Recorded } from "./pulumiMocks";
import { editConfig, runProgram, stackConfig, SITE_PINS } from "./stackHarness";
import { runSerializedProvider, type CallResult } from "./providerHost";
import { makeTestPki, standInKubeconfig } from "./standins/tls";
import { agentsOn, readyNode, startKubeApi, type KubeApiStandIn } from "./standins/kubeApi";
import { jobPod, podOn, startUpgradeApi, type Obj, type UpgradeApiStandIn } from "./standins/upgradeApi";

let dynamic: Recorded[];
const dir = mkdtempSync(join(tmpdir(), "serialized-"));
let ca = "";
let server: Server;
let url = "";

beforeAll(async () => {
  dynamic = ofType((await runProgram("aws")).recorded, "pulumi-nodejs:dynamic:Resource");
  const sh = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes", "-days", "1"]);
  sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=kube-apiserver"]);
  sh(["x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "1", "-extfile", "san.cnf"]);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  ca = read("ca.crt");
  server = createServer({ key: read("srv.key"), cert: read("srv.crt") }, (req, res) => {
    if (req.url === "/readyz") return void res.writeHead(200).end("ok");
    if (req.url === "/api/v1/namespaces/kube-public/configmaps/cluster-info")
      return void res.writeHead(200).end(JSON.stringify({ metadata: { uid: "uid-of-the-stand-in" } }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const named = (suffix: string) => {
  const r = dynamic.find((d) => d.name.endsWith(suffix));
  if (!r) throw new Error(`no dynamic resource named *${suffix}`);
  return { serialized: r.inputs.__provider as string, inputs: Object.fromEntries(Object.entries(r.inputs).filter(([k]) => k !== "__provider")) };
};
const value = (r: CallResult) => {
  if (!("ok" in r)) throw new Error("method absent");
  if (!r.ok) throw new Error(r.error);
  return r.value as any;
};

it("the program registers exactly the dynamic providers tested here, each with its serialized code", () => {
  expect(dynamic.map((d) => d.name.replace(/^meshaws-/, "")).sort()).toEqual([
    "api-ready",
    "join-token",
    "nodes-ready",
    "upgrade-meshaws-aws-cp-0",
    "upgrade-meshaws-aws-workers-0",
    "upgrade-meshaws-aws-workers-1",
    "upgrade-snapshot",
    "versions",
  ]);
  for (const d of dynamic) expect(d.inputs.__provider).toMatch(/exports\.handler = /);
});

it("the readiness wait: create waits for /readyz and reads the identity over TLS with the cluster CA; diff replaces on a new founder", async () => {
  const { serialized, inputs } = named("-api-ready");
  const news = { ...inputs, url, caPem: ca, founderId: "i-0founder", timeoutMs: 20_000, intervalMs: 50 };
  const [create, same, rebuilt, wrongCa] = await runSerializedProvider(serialized, [
    { method: "create", args: [news] },
    { method: "diff", args: ["uid-of-the-stand-in", news, { ...news, url: "https://other:6443" }] },
    { method: "diff", args: ["uid-of-the-stand-in", news, { ...news, founderId: "i-0new" }] },
    { method: "create", args: [{ ...news, caPem: readFileSync(join(dir, "srv.crt"), "utf8"), timeoutMs: 300 }] },
  ]);
  expect(value(create)).toMatchObject({ id: "uid-of-the-stand-in", outs: { clusterId: "uid-of-the-stand-in", attempts: 1 } });
  expect(value(same)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  expect(value(rebuilt).replaces).toEqual(["founderId"]);
  expect(wrongCa).toMatchObject({ ok: false, error: expect.stringMatching(/not ready after .*(certificate|issuer)/i) });
}, 60_000);

it("the join token: create issues one, diff keeps a fresh one, update rotates it", async () => {
  const { serialized, inputs } = named("-join-token");
  const [created] = await runSerializedProvider(serialized, [{ method: "create", args: [inputs] }]);
  const outs = value(created).outs;
  expect(outs.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const [diff, update, del] = await runSerializedProvider(serialized, [
    { method: "diff", args: ["join-token", outs, inputs] },
    { method: "update", args: ["join-token", outs, inputs] },
    { method: "delete", args: ["join-token", outs] },
  ]);
  expect(value(diff)).toEqual({ changes: false });
  expect(value(update).outs.token).not.toBe(outs.token);
  expect(del).toEqual({ absent: true }); // nothing to delete in any cloud: the engine drops it from state
}, 60_000);

it("the version guard: create records the versions, check lets the next minor through and refuses a skipped one", async () => {
  const { serialized, inputs } = named("-versions");
  const [check, create, next, skipped, update] = await runSerializedProvider(serialized, [
    { method: "check", args: [{}, inputs] },
    { method: "create", args: [inputs] },
    { method: "check", args: [inputs, { ...inputs, kubernetesVersion: "1.35.0" }] },
    { method: "check", args: [inputs, { ...inputs, kubernetesVersion: "1.36.0" }] },
    { method: "update", args: ["id", inputs, inputs] },
  ]);
  expect(value(check)).toEqual({ inputs });
  expect(value(create)).toEqual({ id: `${inputs.kubernetesVersion}+${inputs.containerdVersion}`, outs: inputs });
  expect(value(next)).toEqual({ inputs: { ...inputs, kubernetesVersion: "1.35.0" } });
  expect(value(skipped).failures[0].reason).toMatch(/cluster\.kubernetesVersion: 1\.34\.2 -> 1\.36\.0 skips a minor version/);
  expect(value(update)).toEqual({ outs: inputs });
}, 60_000);

describe("a step of the upgrade roll", () => {
  let api: UpgradeApiStandIn;
  let kubeconfig = "";
  beforeAll(async () => {
    const pki = makeTestPki();
    api = await startUpgradeApi({}, pki);
    kubeconfig = standInKubeconfig(pki, api.url, "meshaws");
  }, 60_000);
  afterAll(() => api.close());

  const readyNodeObject = (name: string) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    spec: {},
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      nodeInfo: { kubeletVersion: "v1.35.0", containerRuntimeVersion: "containerd://1.7.28" },
    },
  });
  /** The Job controller and the kubelet: the Job's pod runs, then ends with `log`. */
  const playJobs = (outcome: "succeeded" | "failed", log: (job: Obj) => string) => {
    api.onJobCreated = (job) => {
      const pod = jobPod(job);
      api.state.pods.push(pod);
      setTimeout(() => {
        pod.status.phase = outcome === "succeeded" ? "Succeeded" : "Failed";
        api.state.logs[`${pod.metadata.namespace}/${pod.metadata.name}`] = log(job);
        job.status =
          outcome === "succeeded" ? { succeeded: 1 } : { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] };
      }, 30);
    };
  };
  const envOf = (job: Obj) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));

  it("create does nothing; a version change is an update that drains, runs the node's Job, uncordons and waits for the node", async () => {
    const { serialized, inputs } = named("-upgrade-meshaws-aws-workers-0");
    const node = (inputs.node as { name: string }).name;
    api.state.nodes = [readyNodeObject(node)];
    api.state.pods = [
      podOn(node, "shop", "web-1"),
      podOn(node, "kube-system", "cilium-w0", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
      podOn(node, "kube-system", "node-router-w0", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" }),
    ];
    playJobs("succeeded", (job) => `wg-mesh-upgrade: done ${envOf(job).UPGRADE_STEP} kubelet=v1.35.0 containerd=1.7.28\n`);
    const olds = { ...inputs, kubeconfig, intervalMs: 20 };
    const news = { ...olds, kubernetesVersion: "1.35.0" };
    const [create, same, diff, update] = await runSerializedProvider(serialized, [
      { method: "create", args: [olds] },
      { method: "diff", args: ["id", olds, { ...olds }] },
      { method: "diff", args: ["id", olds, news] },
      { method: "update", args: ["id", olds, news] },
    ]);
    expect(value(create)).toEqual({ id: `${node}/worker`, outs: olds });
    expect(value(same)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(value(diff)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(value(update).outs).toMatchObject({ kubernetesVersion: "1.35.0" });
    // Cordoned, the workload evicted (the agents stay), the Job on the node, uncordoned.
    const seen = api.requests.map((r) => `${r.method} ${r.path.split("?")[0]}${r.method === "PATCH" ? ` ${JSON.stringify(r.body)}` : ""}`);
    expect(seen.filter((r) => /^(PATCH|POST)/.test(r))).toEqual([
      `PATCH /api/v1/nodes/${node} {"spec":{"unschedulable":true}}`,
      "POST /api/v1/namespaces/shop/pods/web-1/eviction",
      "POST /apis/batch/v1/namespaces/kube-system/jobs",
      `PATCH /api/v1/nodes/${node} {"spec":{"unschedulable":false}}`,
    ]);
    const job = api.state.jobs.find((j) => j.metadata.name === `wg-mesh-upgrade-worker-${node}`)!;
    expect(job.spec.template.spec).toMatchObject({ nodeName: node, hostPID: true });
    expect(envOf(job)).toEqual({ UPGRADE_STEP: "worker", K8S_VERSION: "1.35.0", K8S_MINOR: "v1.35", CONTAINERD_VERSION: "1.7.28" });
    expect(job.spec.template.spec.containers[0].command.slice(-2)[0]).toContain("kubeadm upgrade node");
  }, 60_000);

  it("a node whose upgrade fails stops the roll there, named with its console command, left cordoned", async () => {
    const { serialized, inputs } = named("-upgrade-meshaws-aws-workers-1");
    const node = inputs.node as { name: string; instanceId: string };
    api.state.nodes = [readyNodeObject(node.name)];
    api.state.pods = [];
    playJobs("failed", () => "wg-mesh-upgrade: FAILED at installing kubeadm 1.35.0 (apt-get install exit 100): check that Kubernetes 1.35.0 exists\n");
    const olds = { ...inputs, kubeconfig, intervalMs: 20 };
    const [update] = await runSerializedProvider(serialized, [{ method: "update", args: ["id", olds, { ...olds, kubernetesVersion: "1.35.0" }] }]);
    expect(update).toMatchObject({ ok: false });
    const error = (update as { error: string }).error;
    expect(error).toContain(
      `${node.name} (aws instance ${node.instanceId}): the upgrade to Kubernetes 1.35.0 / containerd 1.7.28 failed; the roll stopped here`,
    );
    expect(error).toContain("FAILED at installing kubeadm 1.35.0");
    expect(error).toContain(`aws ec2 get-console-output --instance-id ${node.instanceId} --region eu-west-1 --output text`);
    expect(api.state.nodes[0].spec.unschedulable).toBe(true);
  }, 60_000);

  it("the snapshot step reports the snapshot's file on the first control plane", async () => {
    const { serialized, inputs } = named("-upgrade-snapshot");
    playJobs(
      "succeeded",
      () => "wg-mesh-upgrade: etcd snapshot\nwg-mesh-upgrade: snapshot /var/lib/wg-mesh/etcd-snapshots/wg-mesh-snapshot-20261207T060000Z.db\n",
    );
    const olds = { ...inputs, kubeconfig, intervalMs: 20 };
    const [update] = await runSerializedProvider(serialized, [{ method: "update", args: ["id", olds, { ...olds, kubernetesVersion: "1.35.0" }] }]);
    expect(value(update).outs.snapshotPath).toBe("/var/lib/wg-mesh/etcd-snapshots/wg-mesh-snapshot-20261207T060000Z.db");
    expect(api.state.jobs.map((j) => j.metadata.name)).toContain("wg-mesh-upgrade-snapshot-meshaws-aws-cp-0");
  }, 60_000);
});

describe("a node rebuilt through cluster.replaceNodes", () => {
  let api: UpgradeApiStandIn;
  let kubeconfig = "";
  let rebuilt: Recorded[] = [];
  beforeAll(async () => {
    const pki = makeTestPki();
    api = await startUpgradeApi({}, pki);
    kubeconfig = standInKubeconfig(pki, api.url, "meshaws");
    const run = await runProgram(
      "aws",
      editConfig(stackConfig("aws"), "cluster", (c) => (c.replaceNodes = ["meshaws-aws-workers-0"])),
    );
    rebuilt = ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").filter((r) => r.name.includes("-rebuild-"));
  }, 120_000);
  afterAll(() => api.close());
  const provider = (kind: string) => {
    const r = rebuilt.find((x) => x.name === `meshaws-rebuild-${kind}-meshaws-aws-workers-0`)!;
    const inputs: Record<string, any> = { ...Object.fromEntries(Object.entries(r.inputs).filter(([k]) => k !== "__provider")), kubeconfig, intervalMs: 20 };
    return { serialized: r.inputs.__provider as string, inputs };
  };

  it("the drain: cordons and evicts before the instance goes; a node the API does not know has nothing to drain; a new request replaces it", async () => {
    const { serialized, inputs } = provider("drain");
    const node = inputs.node as string;
    api.state.nodes = [{ apiVersion: "v1", kind: "Node", metadata: { name: node }, spec: {}, status: {} }];
    api.state.pods = [podOn(node, "shop", "web-1"), podOn(node, "kube-system", "cilium-w0", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" })];
    const [created, unknown, same, renewed] = await runSerializedProvider(serialized, [
      { method: "create", args: [inputs] },
      { method: "create", args: [{ ...inputs, node: "never-joined" }] },
      { method: "diff", args: ["id", inputs, { ...inputs }] },
      { method: "diff", args: ["id", inputs, { ...inputs, request: "0123456789abcdef" }] },
    ]);
    expect(value(created).outs).toMatchObject({ drained: true });
    expect(api.state.nodes[0].spec.unschedulable).toBe(true);
    expect(api.state.pods.map((p) => p.metadata.name)).toEqual(["cilium-w0"]);
    expect(value(unknown).outs).toMatchObject({ drained: false });
    expect(value(same)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
    expect(value(renewed)).toEqual({ changes: true, replaces: ["request"], deleteBeforeReplace: true });
  }, 60_000);

  it("the rejoin: waits for the new instance's node with its agents, then uncordons it; a new instance is an update", async () => {
    const { serialized, inputs } = provider("rejoin");
    const node = (inputs.node as { name: string }).name;
    api.state.nodes = [
      { apiVersion: "v1", kind: "Node", metadata: { name: node }, spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }] } },
    ];
    api.state.pods = [
      podOn(node, "kube-system", "cilium-w0", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
      podOn(node, "kube-system", "node-router-w0", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" }),
    ];
    const renewed = { ...inputs, node: { ...(inputs.node as object), instanceId: "i-0rebuilt" } };
    const [created, diff] = await runSerializedProvider(serialized, [
      { method: "create", args: [inputs] },
      { method: "diff", args: ["id", inputs, renewed] },
    ]);
    expect(value(created).id).toBe(node);
    expect(api.state.nodes[0].spec.unschedulable).toBe(false);
    expect(value(diff)).toEqual({ changes: true });
    api.state.pods = [];
    const [failed] = await runSerializedProvider(serialized, [{ method: "update", args: ["id", inputs, { ...renewed, nodeTimeoutMs: 300 }] }]);
    expect(failed).toMatchObject({ ok: false, error: expect.stringContaining(`node ${node} (aws instance i-0rebuilt) not back within 0.3 s`) });
    expect((failed as { error: string }).error).toContain("aws ec2 get-console-output --instance-id i-0rebuilt --region eu-west-1 --output text");
  }, 60_000);
});

describe("a control plane rebuilt", () => {
  let api: UpgradeApiStandIn;
  let kubeconfig = "";
  let rejoin: Recorded;
  beforeAll(async () => {
    const pki = makeTestPki();
    api = await startUpgradeApi({}, pki);
    kubeconfig = standInKubeconfig(pki, api.url, "meshmc");
    const run = await runProgram(
      "multicloud",
      editConfig(stackConfig("multicloud"), "cluster", (c) => (c.replaceNodes = ["meshmc-aws-cp-1"])),
    );
    rejoin = ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name === "meshmc-rebuild-rejoin-meshmc-aws-cp-1")!;
  }, 120_000);
  afterAll(() => api.close());

  it("counts as back only once the etcd-health step passed on it, in kube-system with the agent's image", async () => {
    const inputs: Record<string, any> = {
      ...Object.fromEntries(Object.entries(rejoin.inputs).filter(([k]) => k !== "__provider")),
      kubeconfig,
      intervalMs: 20,
    };
    const node = "meshmc-aws-cp-1";
    api.state.nodes = [
      { apiVersion: "v1", kind: "Node", metadata: { name: node }, spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }] } },
    ];
    api.state.pods = [
      podOn(node, "kube-system", "cilium-cp1", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
      podOn(node, "kube-system", "node-router-cp1", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" }),
    ];
    let outcome: "Succeeded" | "Failed" = "Failed";
    api.onJobCreated = (job) => {
      const pod = jobPod(job, outcome);
      api.state.pods.push(pod);
      api.state.logs[`${job.metadata.namespace}/${pod.metadata.name}`] =
        outcome === "Succeeded" ? "etcd members started and voting\n" : "FAILED at etcd members: a learner\n";
      job.status = outcome === "Succeeded" ? { succeeded: 1 } : { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] };
    };
    const [failed] = await runSerializedProvider(rejoin.inputs.__provider as string, [{ method: "create", args: [inputs] }]);
    expect(failed).toMatchObject({ ok: false, error: expect.stringContaining(`${node}: rebuilt and Ready, but etcd is not whole again`) });
    expect((failed as { error: string }).error).toContain("a learner");
    outcome = "Succeeded";
    const [created] = await runSerializedProvider(rejoin.inputs.__provider as string, [{ method: "create", args: [inputs] }]);
    expect(value(created).id).toBe(node);
    expect(api.state.jobs.map((j) => `${j.metadata.namespace}/${j.metadata.name} ${j.spec.template.spec.containers[0].image}`)).toEqual([
      `kube-system/wg-mesh-upgrade-etcd-health-${node} ${SITE_PINS.agentImage}`,
    ]);
    expect(api.state.nodes[0].spec.unschedulable).toBe(false);
  }, 60_000);
});

describe("the wait for every node", () => {
  let api: KubeApiStandIn;
  let kubeconfig = "";
  beforeAll(async () => {
    const pki = makeTestPki();
    api = await startKubeApi(pki, { nodes: [], pods: {} });
    kubeconfig = standInKubeconfig(pki, api.url, "meshaws");
  }, 60_000);
  afterAll(() => api.close());

  it("create returns once every node is Ready with its agents, fails listing a missing one; diff and update follow the nodes", async () => {
    const { serialized, inputs } = named("-nodes-ready");
    const nodes = inputs.nodes as { name: string; instanceId: string }[];
    expect(nodes.map((n) => n.name)).toEqual(["meshaws-aws-cp-0", "meshaws-aws-workers-0", "meshaws-aws-workers-1"]);
    const news = { ...inputs, kubeconfig, timeoutMs: 5_000, intervalMs: 50 };
    api.state.nodes = nodes.map((n) => readyNode(n.name));
    api.state.pods = Object.fromEntries(nodes.map((n) => [n.name, agentsOn(n.name)]));
    const [create, diff, update] = await runSerializedProvider(serialized, [
      { method: "create", args: [news] },
      { method: "diff", args: ["nodes-ready", news, { ...news, nodes: [...nodes, { ...nodes[0], name: "meshaws-aws-workers-2", instanceId: "i-new" }] }] },
      { method: "update", args: ["nodes-ready", news, news] },
    ]);
    expect(value(create)).toMatchObject({ id: "nodes-ready", outs: { attempts: 1 } });
    expect(value(diff)).toEqual({ changes: true });
    expect(value(update)).toMatchObject({ outs: { attempts: 1 } });
    api.state.nodes = api.state.nodes.slice(0, 2);
    const [failed] = await runSerializedProvider(serialized, [{ method: "create", args: [{ ...news, timeoutMs: 300 }] }]);
    expect(failed).toMatchObject({
      ok: false,
      error: expect.stringContaining(`meshaws-aws-workers-1 (aws instance ${nodes[2].instanceId}): not registered in the API`),
    });
    expect((failed as { error: string }).error).toContain(`aws ec2 get-console-output --instance-id ${nodes[2].instanceId} --region eu-west-1 --output text`);
  }, 60_000);
});
