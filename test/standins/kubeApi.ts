// A Kubernetes API stand-in over TLS on 127.0.0.1: /api/v1/nodes and /api/v1/pods with
// fieldSelector spec.nodeName, from a state the test edits, and only for a client presenting
// a certificate of the stand-in's CA (as the admin kubeconfig does).
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { ApiNode, ApiPod } from "../../components/cluster/nodesReady";
import type { TestPki } from "./tls";

export interface KubeState {
  nodes: ApiNode[];
  /** Pods by node name. */
  pods: Record<string, ApiPod[]>;
}

export interface KubeApiStandIn {
  readonly url: string;
  readonly state: KubeState;
  readonly requests: string[];
  close(): Promise<void>;
}

export const readyNode = (name: string, ready = true): ApiNode => ({
  metadata: { name },
  status: {
    conditions: [
      { type: "MemoryPressure", status: "False" },
      { type: "Ready", status: ready ? "True" : "False" },
    ],
  },
});
export const pod = (name: string, labels: Record<string, string>, phase = "Running"): ApiPod => ({
  metadata: { name, namespace: "kube-system", labels },
  status: { phase },
});
/** Both agents Running on the node. */
export const agentsOn = (node: string): ApiPod[] => [
  pod(`cilium-${node}`, { "k8s-app": "cilium" }),
  pod(`node-router-${node}`, { "app.kubernetes.io/name": "node-router" }),
  pod(`coredns-${node}`, { "k8s-app": "kube-dns" }),
];

export async function startKubeApi(pki: TestPki, state: KubeState): Promise<KubeApiStandIn> {
  const requests: string[] = [];
  const server: Server = createServer(
    { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const url = new URL(req.url ?? "/", "https://x");
      requests.push(`${url.pathname}${url.search}`);
      const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname === "/api/v1/nodes") return void json({ kind: "NodeList", items: state.nodes });
      if (url.pathname === "/api/v1/pods") {
        const node = /^spec\.nodeName=(.+)$/.exec(url.searchParams.get("fieldSelector") ?? "")?.[1];
        if (!node) return void res.writeHead(400).end("this stand-in serves pods by spec.nodeName only");
        return void json({ kind: "PodList", items: state.pods[node] ?? [] });
      }
      res.writeHead(404).end();
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, state, requests, close: () => new Promise((r) => server.close(() => r())) };
}
