// A rebuilt node's rejoin against the Kubernetes API stand-in (test/standins/upgradeApi.ts): back
// Ready with its agents, uncordoned, and on a control plane only once the etcd-health Job on the
// node passed (every member started, voting, healthy), so the next control plane keeps quorum.
import { rejoinAfterRebuild, ETCD_CHECK_NAMESPACE } from "./rebuild";
import { httpApi, type KubeApi } from "./kubeApi";
import type { NodeInstance } from "../nodesReady";
import { jobPod, podOn, startUpgradeApi, type Obj, type UpgradeApiStandIn } from "../../../test/standins/upgradeApi";
import { UPGRADE_NODE_SCRIPT } from "./upgradeNodeScript";

const IMAGE = "registry.example.com/wg-mesh/node-router@sha256:" + "ab".repeat(32);
const VERSIONS = { kubernetesVersion: "1.34.2", containerdVersion: "1.7.28" };
const cp: NodeInstance = { name: "c-aws-cp-1", cloud: "aws", instanceId: "i-0123456789abcdef0", region: "eu-west-1" };

const cordoned = (name: string): Obj => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
  spec: { unschedulable: true },
  status: { conditions: [{ type: "Ready", status: "True" }] },
});

let stand: UpgradeApiStandIn;
let api: KubeApi;
beforeEach(async () => {
  stand = await startUpgradeApi();
  api = httpApi(stand.url);
  stand.state.nodes.push(cordoned(cp.name));
  stand.state.pods.push(
    podOn(cp.name, "kube-system", "cilium-x", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
    podOn(cp.name, "kube-system", "node-router-x", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" }),
  );
});
afterEach(() => stand.close());

/** Plays the Job controller: the Job's pod ends with `phase` and `log` at once. */
function jobsEnd(phase: "Succeeded" | "Failed", log: string): Obj[] {
  const jobs: Obj[] = [];
  stand.onJobCreated = (job) => {
    jobs.push(job);
    const pod = jobPod(job, phase);
    stand.state.pods.push(pod);
    stand.state.logs[`${job.metadata.namespace}/${pod.metadata.name}`] = log;
    job.status =
      phase === "Succeeded"
        ? { succeeded: 1 }
        : { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "limit" }] };
  };
  return jobs;
}

const inputs = (etcd: boolean) => ({
  kubeconfig: "",
  node: cp,
  nodeTimeoutMs: 5000,
  intervalMs: 20,
  ...(etcd ? { etcdCheck: { image: IMAGE, ...VERSIONS } } : {}),
});

describe("rejoinAfterRebuild", () => {
  it("on a control plane: uncordons, then runs the etcd-health step on the node with the agent's image, and resolves when it passes", async () => {
    const jobs = jobsEnd("Succeeded", "wg-mesh-upgrade: etcd members started and voting: a b c\n");
    await rejoinAfterRebuild(api, inputs(true));
    expect(stand.state.nodes[0].spec.unschedulable).toBe(false);
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    expect(job.metadata).toMatchObject({ name: `wg-mesh-upgrade-etcd-health-${cp.name}`, namespace: ETCD_CHECK_NAMESPACE });
    const pod = job.spec.template.spec;
    expect(pod.nodeName).toBe(cp.name);
    expect(pod).not.toHaveProperty("imagePullSecrets");
    expect(pod.containers[0].image).toBe(IMAGE);
    expect(pod.containers[0].command).toContain(UPGRADE_NODE_SCRIPT);
    expect(Object.fromEntries(pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]))).toMatchObject({
      UPGRADE_STEP: "etcd-health",
      K8S_VERSION: "1.34.2",
      CONTAINERD_VERSION: "1.7.28",
    });
    // The Job only after the uncordon (the node must be back first).
    const order = stand.requests.map((r) => `${r.method} ${r.path}`);
    expect(order.findIndex((r) => r.startsWith("PATCH /api/v1/nodes/"))).toBeLessThan(order.findIndex((r) => r.startsWith("POST /apis/batch/v1/")));
  });

  it("on a control plane whose etcd is not whole: rejects naming the node, why the rebuilds stopped, and the Job's log", async () => {
    jobsEnd("Failed", "wg-mesh-upgrade: FAILED at etcd members (etcdctl exit 0): c-aws-cp-2 is a learner\n");
    const failure = await rejoinAfterRebuild(api, inputs(true)).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toMatch(/^c-aws-cp-1: rebuilt and Ready, but etcd is not whole again .*the rebuilds stopped here so the next control plane keeps quorum/);
    expect(failure).toContain("c-aws-cp-2 is a learner");
  });

  it("on a worker: no Job", async () => {
    const jobs = jobsEnd("Failed", "must not run");
    await rejoinAfterRebuild(api, inputs(false));
    expect(stand.state.nodes[0].spec.unschedulable).toBe(false);
    expect(jobs).toEqual([]);
  });
});
