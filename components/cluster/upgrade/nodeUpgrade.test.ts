// One node's upgrade step against the Kubernetes API stand-in (test/standins/upgradeApi.ts), for
// what only the step does: a Job whose pod fails after the upgrade itself succeeded (the new
// kubelet restarted the Job's container) is run once more when the node already reports the
// target versions, and that second run decides; a node that does not report them fails at once.
import { runUpgradeStep, type NodeUpgradeInputs } from "./nodeUpgrade";
import { httpApi, type KubeApi } from "./kubeApi";
import { jobPod, podOn, startUpgradeApi, type Obj, type UpgradeApiStandIn } from "../../../test/standins/upgradeApi";

const NODE = "c-aws-w-0";
const inputs: NodeUpgradeInputs = {
  kubeconfig: "",
  node: { name: NODE, cloud: "aws", instanceId: "i-0123456789abcdef0", region: "eu-west-1" },
  step: "worker",
  kubernetesVersion: "1.35.0",
  containerdVersion: "1.7.28",
  image: "registry.example.com/wg-mesh/node-router@sha256:" + "ab".repeat(32),
  namespace: "wg-mesh-node-router",
  imagePullSecrets: [],
  drainTimeoutMs: 5000,
  nodeTimeoutMs: 5000,
  intervalMs: 20,
};

const nodeAt = (kubelet: string): Obj => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
  spec: {},
  status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: kubelet, containerRuntimeVersion: "containerd://1.7.28" } },
});

let stand: UpgradeApiStandIn;
let api: KubeApi;
beforeEach(async () => {
  stand = await startUpgradeApi();
  api = httpApi(stand.url);
  stand.state.pods.push(
    podOn(NODE, "kube-system", "cilium-x", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
    podOn(NODE, "kube-system", "node-router-x", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" }),
  );
});
afterEach(() => stand.close());

/** Plays the Job controller: the n-th Job's pod ends as outcomes[n]; `upgraded` runs when the first Job ends (the kubelet now reports the new version). */
function jobsEnd(outcomes: ("Succeeded" | "Failed")[], upgraded?: () => void): Obj[] {
  const jobs: Obj[] = [];
  stand.onJobCreated = (job) => {
    const phase = outcomes[jobs.length] ?? "Failed";
    jobs.push(job);
    const pod = jobPod(job, phase);
    stand.state.pods.push(pod);
    stand.state.logs[`${job.metadata.namespace}/${pod.metadata.name}`] =
      phase === "Failed" ? "container restarted by the kubelet\n" : "wg-mesh-upgrade: done\n";
    job.status = phase === "Succeeded" ? { succeeded: 1 } : { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] };
    if (jobs.length === 1) upgraded?.();
  };
  return jobs;
}

describe("runUpgradeStep", () => {
  it("a failed Job on a node that already reports the target versions is run once more, which passes", async () => {
    stand.state.nodes.push(nodeAt("v1.34.2"));
    const jobs = jobsEnd(["Failed", "Succeeded"], () => (stand.state.nodes[0] = nodeAt("v1.35.0")));
    await expect(runUpgradeStep(api, inputs)).resolves.toEqual({});
    expect(jobs).toHaveLength(2);
    expect(stand.state.nodes[0].spec.unschedulable).toBe(false);
  });

  it("when that second run fails too, the step fails with it", async () => {
    stand.state.nodes.push(nodeAt("v1.34.2"));
    const jobs = jobsEnd(["Failed", "Failed"], () => (stand.state.nodes[0] = nodeAt("v1.35.0")));
    await expect(runUpgradeStep(api, inputs)).rejects.toThrow(
      /c-aws-w-0 \(aws instance i-0123456789abcdef0\): the upgrade to Kubernetes 1\.35\.0 .* failed; the roll stopped here/,
    );
    expect(jobs).toHaveLength(2);
  });

  it("a failed Job on a node still at the old version fails the step at once, the node left cordoned", async () => {
    stand.state.nodes.push(nodeAt("v1.34.2"));
    const jobs = jobsEnd(["Failed", "Succeeded"]);
    await expect(runUpgradeStep(api, inputs)).rejects.toThrow(/the node stays cordoned/i);
    expect(jobs).toHaveLength(1);
    expect(stand.state.nodes[0].spec.unschedulable).toBe(true);
  });
});
