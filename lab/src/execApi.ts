// A Kubernetes API stand-in for `wg-mesh verify`: the lab's Nodes, one node-router pod per lab
// node (label-selected as the DaemonSet's are), and the pods' exec subresource over WebSocket
// with the channel protocol the real API server speaks (v5/v4.channel.k8s.io: stream byte, then
// data; a Status on channel 3 at the end, NonZeroExitCode with the code among its causes). The
// command runs as `kubectl exec` would run it in the pod: on that node (its network namespace
// and /run/wireguard) with the container's environment, i.e. the settings the DaemonSet sets.
import type { ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { KubeObject } from "./objects";

export interface ExecPod {
  name: string;
  nodeName: string;
  namespace: string;
  labels: Record<string, string>;
  container: string;
  phase: "Running" | "Pending";
  /** Starts the command as the container would (argv as the exec request gave it). */
  run(command: string[]): ChildProcess;
}

const status = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  code,
  reason,
  message,
});

function podObject(p: ExecPod): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: { nodeName: p.nodeName, containers: [{ name: p.container }] },
    status: { phase: p.phase },
  };
}

/** `a=b,c=d` equality selectors, all of which must hold (what the verify CLI sends). */
const matches = (labels: Record<string, string>, selector: string | null) =>
  !selector ||
  selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels[k] === v;
  });

export class ExecApi {
  private readonly server: Server;
  private readonly sockets = new Set<WebSocket>();
  /** Exec requests served, by pod (tests check every node was asked). */
  readonly served: string[] = [];

  constructor(
    private readonly nodes: () => KubeObject[],
    private readonly pods: () => ExecPod[],
  ) {
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => (offered.has("v5.channel.k8s.io") ? "v5.channel.k8s.io" : offered.has("v4.channel.k8s.io") ? "v4.channel.k8s.io" : false),
    });
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const reply = (code: number, body: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.method === "GET" && url.pathname === "/api/v1/nodes")
        return reply(200, { kind: "NodeList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: this.nodes() });
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
      if (req.method === "GET" && m) {
        const items = this.pods()
          .filter((p) => p.namespace === m[1] && matches(p.labels, url.searchParams.get("labelSelector")))
          .map(podObject);
        return reply(200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items });
      }
      return reply(404, status(404, "NotFound", `${req.method} ${url.pathname} is not served by the exec stand-in`));
    });
    this.server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const refuse = (code: number, reason: string, message: string) => {
        const body = JSON.stringify(status(code, reason, message));
        socket.end(
          `HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      };
      const url = new URL(req.url ?? "/", "http://stand-in");
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
      if (!m) return refuse(404, "NotFound", `${url.pathname} is not an exec request`);
      const pod = this.pods().find((p) => p.namespace === decodeURIComponent(m[1]) && p.name === decodeURIComponent(m[2]));
      if (!pod) return refuse(404, "NotFound", `pods "${decodeURIComponent(m[2])}" not found`);
      if (url.searchParams.get("container") !== pod.container)
        return refuse(400, "BadRequest", `container ${url.searchParams.get("container")} is not valid for pod ${pod.name}`);
      if (pod.phase !== "Running") return refuse(400, "BadRequest", `pod ${pod.name} is not running`);
      const command = url.searchParams.getAll("command");
      if (command.length === 0) return refuse(400, "BadRequest", "you must specify at least 1 command");
      wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        this.served.push(pod.name);
        ws.on("close", () => this.sockets.delete(ws));
        const child = pod.run(command);
        const frame = (channel: number, data: Buffer) => ws.send(Buffer.concat([Buffer.from([channel]), data]));
        child.stdout?.on("data", (d: Buffer) => frame(1, d));
        child.stderr?.on("data", (d: Buffer) => frame(2, d));
        child.on("error", (e) => {
          frame(3, Buffer.from(JSON.stringify(status(500, "InternalError", e.message))));
          ws.close(1000);
        });
        child.on("close", (code) => {
          const end =
            code === 0
              ? { metadata: {}, status: "Success" }
              : {
                  ...status(500, "NonZeroExitCode", `command terminated with non-zero exit code: exit status ${code}`),
                  details: { causes: [{ reason: "ExitCode", message: String(code) }] },
                };
          frame(3, Buffer.from(JSON.stringify(end)));
          ws.close(1000);
        });
      });
    });
  }

  /** Listens on 127.0.0.1 (a free port) and returns the server URL. */
  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`)));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
