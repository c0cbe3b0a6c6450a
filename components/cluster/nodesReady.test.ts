// The wait for every node against a Kubernetes API stand-in over TLS (test/standins/kubeApi.ts),
// through the admin kubeconfig as Cluster renders it.
import { consoleCommand, kubeconfigGet, nodeProblems, nodesReadyDiff, waitForNodes, type NodeInstance } from "./nodesReady";
import { renderKubeconfig } from "./kubeconfig";
import { makeTestPki, standInKubeconfig, type TestPki } from "../../test/standins/tls";
import { agentsOn, pod, readyNode, startKubeApi, type KubeApiStandIn } from "../../test/standins/kubeApi";

const nodes: NodeInstance[] = [
  { name: "demo-aws-cp-0", cloud: "aws", instanceId: "i-0123456789abcdef0", region: "eu-west-1" },
  { name: "demo-aws-workers-0", cloud: "aws", instanceId: "i-0fedcba9876543210", region: "eu-west-1" },
  {
    name: "demo-gcp-workers-0",
    cloud: "gcp",
    instanceId: "projects/p/zones/europe-west1-b/instances/demo-gcp-workers-0",
    zone: "europe-west1-b",
    project: "demo-project-123",
  },
];

let pki: TestPki;
let api: KubeApiStandIn;
let kubeconfig: string;
beforeAll(async () => {
  pki = makeTestPki();
  api = await startKubeApi(pki, { nodes: [], pods: {} });
  kubeconfig = standInKubeconfig(pki, api.url, "demo");
}, 60_000);
afterAll(() => api.close());

describe("consoleCommand", () => {
  it("is the exact command that prints the node's serial console", () => {
    expect(consoleCommand(nodes[0])).toBe("aws ec2 get-console-output --instance-id i-0123456789abcdef0 --region eu-west-1 --output text");
    expect(consoleCommand(nodes[2])).toBe(
      "gcloud compute instances get-serial-port-output demo-gcp-workers-0 --zone europe-west1-b --project demo-project-123",
    );
  });
});

describe("nodeProblems", () => {
  it("a Ready node with both agents Running is done", () => {
    expect(nodeProblems(readyNode("n"), agentsOn("n"))).toEqual([]);
  });

  it("names what is missing: registration, readiness, each agent", () => {
    expect(nodeProblems(undefined, [])).toEqual(["not registered in the API (kubelet never joined)"]);
    expect(nodeProblems(readyNode("n", false), [pod("cilium-x", { "k8s-app": "cilium" }, "Pending")])).toEqual([
      "not Ready (Ready=False)",
      "Cilium's agent not Running (cilium-x: Pending)",
      "the node-router not Running (no pod)",
    ]);
  });
});

describe("waitForNodes", () => {
  it("returns once every node is Ready with its agents, asking for each node's pods by spec.nodeName", async () => {
    api.state.nodes = nodes.slice(0, 2).map((n) => readyNode(n.name));
    api.state.pods = Object.fromEntries(nodes.map((n) => [n.name, agentsOn(n.name)]));
    // The GCP worker joins once the wait has seen it missing.
    const seen = api.requests.length;
    const joined = setInterval(() => {
      if (api.requests.slice(seen).includes("/api/v1/nodes")) api.state.nodes = nodes.map((n) => readyNode(n.name));
    }, 5);
    try {
      const r = await waitForNodes(kubeconfigGet(kubeconfig), { nodes, timeoutMs: 10_000, intervalMs: 50 });
      expect(r.attempts).toBeGreaterThan(1);
      expect(api.requests).toContain("/api/v1/pods?fieldSelector=spec.nodeName%3Ddemo-gcp-workers-0");
    } finally {
      clearInterval(joined);
    }
  });

  it("fails at the deadline listing each missing node, its instance, what is missing and its console command", async () => {
    api.state.nodes = [readyNode(nodes[0].name), readyNode(nodes[1].name, false)];
    api.state.pods = { [nodes[0].name]: agentsOn(nodes[0].name), [nodes[1].name]: [pod("cilium-w", { "k8s-app": "cilium" }, "Running")] };
    let message = "";
    try {
      await waitForNodes(kubeconfigGet(kubeconfig), { nodes, timeoutMs: 300, intervalMs: 50 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^2 node\(s\) not Ready with Cilium and the node-router running within 0 min \(cluster\.nodesReadyTimeoutMinutes\):/);
    expect(message).toContain(
      "  - demo-aws-workers-0 (aws instance i-0fedcba9876543210): not Ready (Ready=False); the node-router not Running (no pod)\n      serial console: aws ec2 get-console-output --instance-id i-0fedcba9876543210 --region eu-west-1 --output text",
    );
    expect(message).toContain(
      "  - demo-gcp-workers-0 (gcp instance projects/p/zones/europe-west1-b/instances/demo-gcp-workers-0): not registered in the API (kubelet never joined)\n      serial console: gcloud compute instances get-serial-port-output demo-gcp-workers-0 --zone europe-west1-b --project demo-project-123",
    );
    expect(message).not.toContain("demo-aws-cp-0 (");
    expect(message).toContain("journal+console");
  });

  it("an API it cannot talk to (another CA) fails listing every node and the last error", async () => {
    const other = makeTestPki();
    const wrong = renderKubeconfig({
      clusterName: "demo",
      server: api.url,
      caCertPem: other.caPem,
      clientCertPem: pki.clientCertPem,
      clientKeyPem: pki.clientKeyPem,
    });
    await expect(waitForNodes(kubeconfigGet(wrong), { nodes, timeoutMs: 200, intervalMs: 50 })).rejects.toThrow(
      /^3 node\(s\)[\s\S]*Last API error: .*(certificate|self.signed|issuer)/i,
    );
  });
});

describe("nodesReadyDiff", () => {
  const inputs = { kubeconfig: "k", nodes, timeoutMs: 1, intervalMs: 1 };
  it("waits again when a node comes or an instance is rebuilt, not for anything else", () => {
    expect(nodesReadyDiff(inputs, { ...inputs, kubeconfig: "renewed" })).toEqual({ changes: false });
    expect(nodesReadyDiff(inputs, { ...inputs, nodes: [...nodes].reverse() })).toEqual({ changes: false });
    expect(nodesReadyDiff(inputs, { ...inputs, nodes: [{ ...nodes[0], instanceId: "i-new" }, ...nodes.slice(1)] })).toEqual({ changes: true });
    expect(nodesReadyDiff(inputs, { ...inputs, nodes: nodes.slice(0, 2) })).toEqual({ changes: true });
  });
});
