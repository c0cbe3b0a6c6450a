// One node's in-place upgrade, the API side, against a Kubernetes API stand-in over HTTP
// (test/standins/upgradeApi.ts): cordon, drain honouring PodDisruptionBudgets, the upgrade Job on
// the node, waiting for the node to come back. kubeconfigApi against the TLS stand-in.
import {
  cordon,
  drainNode,
  podsToEvict,
  runNodeJob,
  uncordon,
  upgradeJob,
  versionProblems,
  waitNodeBack,
  UPGRADE_LABEL,
  type KubePod,
  type NodeJobSpec,
} from "./drain";
import { httpApi, kubeconfigApi, type KubeApi } from "./kubeApi";
import type { NodeInstance } from "../nodesReady";
import { renderKubeconfig } from "../kubeconfig";
import { jobPod, podOn, startUpgradeApi, type Obj, type UpgradeApiStandIn } from "../../../test/standins/upgradeApi";
import { readyNode, startKubeApi } from "../../../test/standins/kubeApi";
import { makeTestPki } from "../../../test/standins/tls";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("the stand-in never reached the expected state");
    await sleep(5);
  }
}

const node = (name: string, ready = true): Obj => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
  spec: { podCIDR: "10.244.1.0/24" },
  status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});

let stand: UpgradeApiStandIn;
let api: KubeApi;
beforeEach(async () => {
  stand = await startUpgradeApi();
  api = httpApi(stand.url);
});
afterEach(() => stand.close());

describe("podsToEvict", () => {
  const base: KubePod = podOn("n1", "shop", "web-1", { labels: { app: "web" } });
  const cases: [string, (p: any) => void, boolean][] = [
    ["a ReplicaSet's running pod is evicted", () => undefined, true],
    ["a pending pod is evicted", (p) => (p.status.phase = "Pending"), true],
    ["a pod without an owner is evicted", (p) => delete p.metadata.ownerReferences, true],
    ["a static pod's mirror is not", (p) => (p.metadata.annotations = { "kubernetes.io/config.mirror": "0a1b2c" }), false],
    ["a DaemonSet's pod is not", (p) => (p.metadata.ownerReferences[0].kind = "DaemonSet"), false],
    ["a Succeeded pod is not", (p) => (p.status.phase = "Succeeded"), false],
    ["a Failed pod is not", (p) => (p.status.phase = "Failed"), false],
    ["the upgrade Job's pod is not", (p) => (p.metadata.labels[UPGRADE_LABEL] = "wg-mesh-upgrade-n1"), false],
  ];
  it.each(cases)("%s", (_what, change, evicted) => {
    const p = structuredClone(base);
    change(p);
    expect(podsToEvict([p])).toEqual(evicted ? [p] : []);
  });
});

describe("cordon", () => {
  it("patches spec.unschedulable with a strategic merge patch, keeping the rest of the node", async () => {
    stand.state.nodes.push(node("n1"));
    await cordon(api, "n1", true);
    expect(stand.state.nodes[0].spec).toEqual({ podCIDR: "10.244.1.0/24", unschedulable: true });
    expect(stand.state.nodes[0].metadata.labels).toEqual({ "kubernetes.io/hostname": "n1" });
    await uncordon(api, "n1");
    expect(stand.state.nodes[0].spec.unschedulable).toBe(false);
    expect(stand.requests.map((r) => [r.method, r.path, r.body, r.status])).toEqual([
      ["PATCH", "/api/v1/nodes/n1", { spec: { unschedulable: true } }, 200],
      ["PATCH", "/api/v1/nodes/n1", { spec: { unschedulable: false } }, 200],
    ]);
  });

  it("an unknown node rejects with the API's status and message", async () => {
    await expect(cordon(api, "nope", true)).rejects.toThrow('PATCH /api/v1/nodes/nope: HTTP 404: nodes "nope" not found');
  });
});

describe("drainNode", () => {
  let pdb: Obj;
  beforeEach(() => {
    stand.state.nodes.push(node("n1"), node("n2"));
    stand.state.pods.push(
      podOn("n1", "shop", "web-1", { labels: { app: "web" } }),
      podOn("n1", "shop", "cart-1", { labels: { app: "cart" } }),
      podOn("n1", "kube-system", "cilium-n1", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" }),
      podOn("n1", "kube-system", "kube-apiserver-n1", { annotations: { "kubernetes.io/config.mirror": "0a1b2c" }, owner: "Node" }),
      podOn("n1", "shop", "report-1", { owner: "Job", phase: "Succeeded" }),
      podOn("n2", "shop", "web-2", { labels: { app: "web" } }),
    );
    pdb = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web-pdb", namespace: "shop" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
      status: { disruptionsAllowed: 0, desiredHealthy: 2, currentHealthy: 2 },
    };
    stand.state.pdbs.push(pdb);
    // Evicted pods terminate for a while: the drain waits until they are gone.
    stand.evictionGraceMs = 100;
  });
  const evictions = (name: string) => stand.requests.filter((r) => r.method === "POST" && r.path === `/api/v1/namespaces/shop/pods/${name}/eviction`);
  const podsLeft = () => stand.state.pods.map((p) => `${p.spec.nodeName} ${p.metadata.namespace}/${p.metadata.name}`).sort();

  it("retries an eviction a PodDisruptionBudget refuses until it allows it; cordons; leaves DaemonSet, mirror and finished pods", async () => {
    const drain = drainNode(api, "n1", { timeoutMs: 5000, intervalMs: 20 });
    drain.catch(() => undefined);
    await until(() => evictions("web-1").filter((r) => r.status === 429).length >= 2);
    expect(stand.state.pods.some((p) => p.metadata.name === "web-1")).toBe(true);
    pdb.status.disruptionsAllowed = 1;
    await expect(drain).resolves.toEqual({ evicted: ["shop/cart-1", "shop/web-1"] });
    expect(stand.state.nodes[0].spec.unschedulable).toBe(true);
    expect(stand.state.nodes[1].spec.unschedulable).toBeUndefined();
    expect(podsLeft()).toEqual(["n1 kube-system/cilium-n1", "n1 kube-system/kube-apiserver-n1", "n1 shop/report-1", "n2 shop/web-2"]);
    expect(evictions("web-1").at(-1)).toMatchObject({
      status: 201,
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1", namespace: "shop" } },
    });
    expect(evictions("cart-1").map((r) => r.status)).toEqual([201]);
    expect(stand.requests.filter((r) => r.path.endsWith("/eviction")).every((r) => /\/(web-1|cart-1)\/eviction$/.test(r.path))).toBe(true);
    expect(stand.requests).toContainEqual(expect.objectContaining({ method: "GET", path: "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1" }));
    expect(pdb.status.disruptionsAllowed).toBe(0);
  });

  it("at the deadline rejects naming the node, the pod the budget keeps, the API's message and the config field", async () => {
    const started = Date.now();
    await expect(drainNode(api, "n1", { timeoutMs: 300, intervalMs: 20 })).rejects.toThrow(
      new Error(
        "drain of node n1 did not finish within 0.3 s (cluster.upgrade.drainTimeoutMinutes raises it); 1 pod(s) still on it:\n" +
          "  - shop/web-1: eviction refused (HTTP 429): Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget web-pdb needs 2 healthy pods and has 2 currently)",
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(podsLeft()).toContain("n1 shop/web-1");
    expect(podsLeft()).not.toContain("n1 shop/cart-1");
  });

  it("a pod evicted but still terminating at the deadline is named as such", async () => {
    pdb.status.disruptionsAllowed = 1;
    stand.evictionGraceMs = 60_000;
    await expect(drainNode(api, "n1", { timeoutMs: 200, intervalMs: 20 })).rejects.toThrow(
      "2 pod(s) still on it:\n  - shop/web-1: evicted, still terminating\n  - shop/cart-1: evicted, still terminating",
    );
  });

  it("a pod whose name is now another pod's (another uid) counts as gone", async () => {
    pdb.status.disruptionsAllowed = 1;
    stand.evictionGraceMs = 60_000;
    stand.onEvicted = (p) => {
      const i = stand.state.pods.indexOf(p);
      stand.state.pods[i] = podOn("n1", p.metadata.namespace!, p.metadata.name, { labels: p.metadata.labels });
    };
    await expect(drainNode(api, "n1", { timeoutMs: 3000, intervalMs: 20 })).resolves.toEqual({ evicted: ["shop/web-1", "shop/cart-1"] });
  });

  it("a pod already gone (404) is not waited for", async () => {
    pdb.status.disruptionsAllowed = 1;
    stand.intercept = (method, path) => {
      if (method === "POST" && path.endsWith("/cart-1/eviction")) stand.state.pods = stand.state.pods.filter((p) => p.metadata.name !== "cart-1");
      return undefined;
    };
    await expect(drainNode(api, "n1", { timeoutMs: 3000, intervalMs: 20 })).resolves.toEqual({ evicted: ["shop/web-1"] });
    expect(evictions("cart-1").map((r) => r.status)).toEqual([404]);
  });

  it("tolerates the API going away (no answer, 503) while cordoning, listing and evicting, and goes on from where it stopped", async () => {
    pdb.status.disruptionsAllowed = 1;
    // Each of cordon, the pods' list and one eviction fails twice (a 503, then no answer).
    const failed = new Map<string, number>();
    stand.intercept = (method, path) => {
      const what =
        method === "PATCH" && path === "/api/v1/nodes/n1"
          ? "cordon"
          : method === "GET" && path.startsWith("/api/v1/pods?")
            ? "list"
            : path.endsWith("/web-1/eviction")
              ? "evict"
              : undefined;
      const n = what ? (failed.get(what) ?? 0) : 2;
      if (n >= 2) return undefined;
      failed.set(what!, n + 1);
      return n === 1 ? "drop" : { status: 503, body: { kind: "Status", code: 503, message: "the server is currently unable to handle the request" } };
    };
    await expect(drainNode(api, "n1", { timeoutMs: 5000, intervalMs: 20 })).resolves.toEqual({ evicted: ["shop/web-1", "shop/cart-1"] });
    expect(Object.fromEntries(failed)).toEqual({ cordon: 2, list: 2, evict: 2 });
    expect(stand.state.nodes[0].spec.unschedulable).toBe(true);
  });

  it("any other refusal rejects at once with its status and message", async () => {
    stand.state.pdbs.push({ ...pdb, metadata: { name: "web-pdb-2", namespace: "shop" } });
    const started = Date.now();
    await expect(drainNode(api, "n1", { timeoutMs: 5000, intervalMs: 20 })).rejects.toThrow(
      new Error(
        "POST /api/v1/namespaces/shop/pods/web-1/eviction: HTTP 500: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      ),
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

const spec: NodeJobSpec = {
  name: "wg-mesh-upgrade-n1",
  namespace: "kube-system",
  node: "n1",
  image: "docker.io/library/debian:12-slim",
  script: 'set -eu\necho "upgrading $(hostname) to $1"\n',
  args: ["v1.31.2", "control-plane"],
  env: { KUBE_VERSION: "v1.31.2", APT_PROXY: "" },
};

describe("upgradeJob", () => {
  it("is one privileged pod pinned to the node, in the host's namespaces through nsenter, never retried, tolerating every taint", () => {
    expect(upgradeJob(spec)).toEqual({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "wg-mesh-upgrade-n1", namespace: "kube-system", labels: { "wg-mesh.io/upgrade": "wg-mesh-upgrade-n1" } },
      spec: {
        backoffLimit: 0,
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: { "wg-mesh.io/upgrade": "wg-mesh-upgrade-n1" } },
          spec: {
            nodeName: "n1",
            hostPID: true,
            hostNetwork: true,
            restartPolicy: "Never",
            priorityClassName: "system-node-critical",
            tolerations: [{ operator: "Exists" }],
            containers: [
              {
                name: "upgrade",
                image: "docker.io/library/debian:12-slim",
                imagePullPolicy: "IfNotPresent",
                command: [
                  "nsenter",
                  "--target",
                  "1",
                  "--mount",
                  "--uts",
                  "--ipc",
                  "--net",
                  "--pid",
                  "--",
                  "bash",
                  "-c",
                  'set -eu\necho "upgrading $(hostname) to $1"\n',
                  "wg-mesh-upgrade",
                  "v1.31.2",
                  "control-plane",
                ],
                env: [
                  { name: "KUBE_VERSION", value: "v1.31.2" },
                  { name: "APT_PROXY", value: "" },
                ],
                securityContext: { privileged: true },
              },
            ],
          },
        },
      },
    });
  });

  it("pulls a private image with the agent's pull secrets", () => {
    const job = upgradeJob({ ...spec, imagePullSecrets: ["registry-a", "registry-b"] });
    expect(job.spec.template.spec.imagePullSecrets).toEqual([{ name: "registry-a" }, { name: "registry-b" }]);
    expect(upgradeJob({ ...spec, imagePullSecrets: [] }).spec.template.spec).not.toHaveProperty("imagePullSecrets");
  });
});

describe("runNodeJob", () => {
  const jobPath = "/apis/batch/v1/namespaces/kube-system/jobs/wg-mesh-upgrade-n1";
  /** Plays the Job controller and the kubelet: a pod at once, its outcome and log after `ms`. */
  const play = (outcome: "succeeded" | "failed" | "running", log: string, ms = 60) => {
    const made: Obj[] = [];
    stand.onJobCreated = (job) => {
      const pod = jobPod(job);
      made.push(pod);
      stand.state.pods.push(pod);
      stand.state.logs[`kube-system/${pod.metadata.name}`] = "starting\n";
      if (outcome === "running") return;
      setTimeout(() => {
        pod.status.phase = outcome === "succeeded" ? "Succeeded" : "Failed";
        stand.state.logs[`kube-system/${pod.metadata.name}`] = log;
        job.status =
          outcome === "succeeded"
            ? { succeeded: 1 }
            : {
                failed: 1,
                conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }],
              };
      }, ms);
    };
    return made;
  };

  it("creates upgradeJob(spec) and resolves with its pod's log once it succeeded", async () => {
    const pods = play("succeeded", "upgrading n1 to v1.31.2\n[upgrade] done\n");
    await expect(runNodeJob(api, spec, { timeoutMs: 5000, intervalMs: 20 })).resolves.toBe("upgrading n1 to v1.31.2\n[upgrade] done\n");
    expect(stand.requests.filter((r) => r.method === "POST").map((r) => [r.path, r.body, r.status])).toEqual([
      ["/apis/batch/v1/namespaces/kube-system/jobs", upgradeJob(spec), 201],
    ]);
    expect(stand.requests).toContainEqual(
      expect.objectContaining({ method: "GET", path: "/api/v1/namespaces/kube-system/pods?labelSelector=wg-mesh.io%2Fupgrade%3Dwg-mesh-upgrade-n1" }),
    );
    expect(stand.requests.at(-1)).toMatchObject({ method: "GET", path: `/api/v1/namespaces/kube-system/pods/${pods[0].metadata.name}/log`, status: 200 });
  });

  it("a failed Job rejects naming the Job, the node, the reason and the last 30 lines of its log", async () => {
    const log = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
    const pods = play("failed", log);
    const failure = await runNodeJob(api, spec, { timeoutMs: 5000, intervalMs: 20 }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toBe(
      `Job kube-system/wg-mesh-upgrade-n1 on node n1 failed (BackoffLimitExceeded: Job has reached the specified backoff limit); ` +
        `the last 30 lines of pod ${pods[0].metadata.name}'s log:\n` +
        Array.from({ length: 30 }, (_, i) => `line ${i + 11}`).join("\n"),
    );
  });

  it("deletes a previous Job of the same name first (Background) and creates the new one once it is gone", async () => {
    const old: Obj = { ...upgradeJob(spec), metadata: { ...upgradeJob(spec).metadata, uid: "uid-of-the-last-run" }, status: { failed: 1 } };
    stand.state.jobs.push(old);
    stand.state.pods.push(jobPod(old, "Failed"));
    // A pod of an even older run, left behind, newer-looking: not the new Job's, so not its log.
    const stray = jobPod({ ...old, metadata: { ...old.metadata, uid: "uid-of-a-run-before" } }, "Failed");
    stray.metadata.creationTimestamp = "2999-01-01T00:00:00Z";
    stand.state.pods.push(stray);
    stand.state.logs[`kube-system/${stray.metadata.name}`] = "the run before failed\n";
    stand.jobDeletionMs = 100;
    play("succeeded", "fresh run\n");
    await expect(runNodeJob(api, spec, { timeoutMs: 5000, intervalMs: 20 })).resolves.toBe("fresh run\n");
    const onJob = stand.requests.filter((r) => r.path.startsWith("/apis/batch/v1/")).map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(onJob[0]).toBe(`DELETE ${jobPath}?propagationPolicy=Background 200`);
    const created = onJob.indexOf("POST /apis/batch/v1/namespaces/kube-system/jobs 201");
    expect(onJob.slice(1, created)).toContain(`GET ${jobPath} 200`);
    expect(onJob[created - 1]).toBe(`GET ${jobPath} 404`);
    expect(onJob.filter((r) => r.startsWith("POST"))).toEqual(["POST /apis/batch/v1/namespaces/kube-system/jobs 201"]);
    expect(stand.state.jobs.map((j) => j.metadata.uid)).not.toContain("uid-of-the-last-run");
    expect(stand.state.jobs).toHaveLength(1);
  });

  it("tolerates 503s and dropped connections while the API server restarts", async () => {
    play("succeeded", "upgraded\n", 150);
    let n = 0;
    stand.intercept = (method, path) => {
      if (method !== "GET" || (path !== jobPath && !path.endsWith("/log"))) return undefined;
      n++;
      if (n <= 3)
        return { status: 503, body: { kind: "Status", status: "Failure", code: 503, reason: "ServiceUnavailable", message: "apiserver is shutting down" } };
      if (n <= 5) return "drop";
      return undefined;
    };
    await expect(runNodeJob(api, spec, { timeoutMs: 5000, intervalMs: 20 })).resolves.toBe("upgraded\n");
    expect(stand.requests.filter((r) => r.status === 503)).toHaveLength(3);
    expect(stand.requests.filter((r) => r.status === 0)).toHaveLength(2);
  });

  it("a refusal that is not transient (403) rejects at once", async () => {
    stand.intercept = (method) =>
      method === "POST"
        ? { status: 403, body: { kind: "Status", code: 403, reason: "Forbidden", message: 'jobs.batch is forbidden: User "x" cannot create resource "jobs"' } }
        : undefined;
    const started = Date.now();
    await expect(runNodeJob(api, spec, { timeoutMs: 5000, intervalMs: 20 })).rejects.toThrow(
      new Error('POST /apis/batch/v1/namespaces/kube-system/jobs: HTTP 403: jobs.batch is forbidden: User "x" cannot create resource "jobs"'),
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("at the deadline rejects naming the Job and the node", async () => {
    play("running", "");
    await expect(runNodeJob(api, spec, { timeoutMs: 300, intervalMs: 20 })).rejects.toThrow(
      new Error("Job kube-system/wg-mesh-upgrade-n1 on node n1 did not finish within 0.3 s (still running)"),
    );
  });
});

describe("waitNodeBack", () => {
  const n1: NodeInstance = {
    name: "n1",
    cloud: "gcp",
    instanceId: "projects/p/zones/europe-west1-b/instances/n1",
    zone: "europe-west1-b",
    project: "demo-project-123",
  };
  const cilium = () => podOn("n1", "kube-system", "cilium-n1", { labels: { "k8s-app": "cilium" }, owner: "DaemonSet" });
  const router = () => podOn("n1", "kube-system", "node-router-n1", { labels: { "app.kubernetes.io/name": "node-router" }, owner: "DaemonSet" });

  it("resolves once the node is Ready with Cilium's agent and the node-router Running, through API errors", async () => {
    stand.state.nodes.push(node("n1", false));
    stand.state.pods.push({ ...cilium(), status: { phase: "Pending" } });
    let n = 0;
    stand.intercept = (_m, path) =>
      path === "/api/v1/nodes/n1" && ++n === 1 ? { status: 503, body: { kind: "Status", code: 503, message: "restarting" } } : undefined;
    const back = waitNodeBack(api, n1, { timeoutMs: 5000, intervalMs: 20 });
    back.catch(() => undefined);
    await until(() => stand.requests.filter((r) => r.path.startsWith("/api/v1/pods?")).length >= 2);
    stand.state.nodes = [node("n1")];
    stand.state.pods = [cilium(), router()];
    const r = await back;
    expect(r.attempts).toBeGreaterThanOrEqual(4);
    expect(stand.requests.filter((r) => r.status === 503)).toHaveLength(1);
  });

  it("with versions, waits until the node's kubelet and runtime report them too", async () => {
    const reporting = (kubelet: string, runtime: string) => {
      const n = node("n1");
      n.status.nodeInfo = { kubeletVersion: kubelet, containerRuntimeVersion: runtime };
      return n;
    };
    stand.state.nodes = [reporting("v1.34.2", "containerd://1.7.28")];
    stand.state.pods = [cilium(), router()];
    const versions = { kubernetesVersion: "1.35.0", containerdVersion: "1.7.28" };
    await expect(waitNodeBack(api, n1, { timeoutMs: 200, intervalMs: 20, versions })).rejects.toThrow(
      "node n1 (gcp instance projects/p/zones/europe-west1-b/instances/n1) not back within 0.2 s after its upgrade: kubelet reports v1.34.2, not v1.35.0\n",
    );
    const back = waitNodeBack(api, n1, { timeoutMs: 5000, intervalMs: 20, versions });
    back.catch(() => undefined);
    await until(() => stand.requests.filter((r) => r.path === "/api/v1/nodes/n1").length >= 15);
    stand.state.nodes = [reporting("v1.35.0", "containerd://1.7.28")];
    await expect(back).resolves.toMatchObject({ attempts: expect.any(Number) });
  });

  it("versionProblems names what the node reports against the target", () => {
    const want = { kubernetesVersion: "1.35.0", containerdVersion: "2.1.4" };
    expect(versionProblems({ status: { nodeInfo: { kubeletVersion: "v1.35.0", containerRuntimeVersion: "containerd://2.1.4" } } }, want)).toEqual([]);
    expect(versionProblems({ status: { nodeInfo: { kubeletVersion: "v1.34.2", containerRuntimeVersion: "containerd://1.7.28" } } }, want)).toEqual([
      "kubelet reports v1.34.2, not v1.35.0",
      "runtime reports containerd://1.7.28, not containerd://2.1.4",
    ]);
    expect(versionProblems({}, want)).toEqual(["kubelet reports no version, not v1.35.0", "runtime reports no version, not containerd://2.1.4"]);
  });

  it("rejects at the deadline with what is missing and the node's serial console command", async () => {
    stand.state.nodes.push(node("n1", false));
    stand.state.pods.push(cilium());
    await expect(waitNodeBack(api, n1, { timeoutMs: 200, intervalMs: 20 })).rejects.toThrow(
      new Error(
        "node n1 (gcp instance projects/p/zones/europe-west1-b/instances/n1) not back within 0.2 s after its upgrade: not Ready (Ready=False); the node-router not Running (no pod)\n" +
          "  serial console: gcloud compute instances get-serial-port-output n1 --zone europe-west1-b --project demo-project-123",
      ),
    );
  });

  it("a node that is not registered (404) is reported as such", async () => {
    await expect(waitNodeBack(api, { ...n1, cloud: "aws", instanceId: "i-0abc", region: "eu-west-1" }, { timeoutMs: 100, intervalMs: 20 })).rejects.toThrow(
      "not back within 0.1 s after its upgrade: not registered in the API (kubelet never joined)\n  serial console: aws ec2 get-console-output --instance-id i-0abc --region eu-west-1 --output text",
    );
  });
});

describe("kubeconfigApi", () => {
  it("talks TLS with the kubeconfig's CA and client certificate; any status resolves, no answer rejects", async () => {
    const pki = makeTestPki();
    const tls = await startKubeApi(pki, { nodes: [readyNode("n1")], pods: {} });
    try {
      const kc = (ca: string) =>
        renderKubeconfig({ clusterName: "demo", server: tls.url, caCertPem: ca, clientCertPem: pki.clientCertPem, clientKeyPem: pki.clientKeyPem });
      const k = kubeconfigApi(kc(pki.caPem));
      await expect(k.request("GET", "/api/v1/nodes")).resolves.toEqual({ status: 200, body: { kind: "NodeList", items: [readyNode("n1")] } });
      await expect(k.request("GET", "/api/v1/nope")).resolves.toEqual({ status: 404, body: undefined });
      await expect(kubeconfigApi(kc(makeTestPki().caPem)).request("GET", "/api/v1/nodes")).rejects.toThrow(/certificate|self.signed|issuer/i);
    } finally {
      await tls.close();
    }
  }, 60_000);
});
