// The lab's API stand-in (lab/src/apiserver.ts) served in-process on loopback, wrapped so a test
// can take the API away (connections reset or refused), bring it back and see every request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { kubeHandler } from "../../../../lab/src/apiserver";
import { ApiStore } from "../../../../lab/src/apistore";
import type { KubeObject } from "../../../../lab/src/objects";
import type { KubeTarget } from "../../../src/kube/config";

export type Intercept = (req: IncomingMessage, res: ServerResponse) => boolean;

export class StandIn {
  readonly requests: string[] = [];
  /** "reset": every connection is destroyed on arrival (an API server crashing in a loop). */
  mode: "up" | "reset" = "up";
  intercept?: Intercept;
  private server?: Server;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(
    readonly store = new ApiStore(),
    private readonly bookmarkMs = 50,
  ) {}

  get target(): KubeTarget {
    return { server: new URL(`http://127.0.0.1:${this.port}`), verifyTls: false };
  }

  lists(path = "/api/v1/nodes"): number {
    return this.requests.filter((u) => u.startsWith(`${path}?`) && !u.includes("watch=true") && !u.includes("continue=")).length;
  }

  async start(port = this.port): Promise<void> {
    const handler = kubeHandler(this.store, { bookmarkMs: this.bookmarkMs });
    const server = createServer((req, res) => {
      if (this.mode === "reset") return void req.socket.destroy();
      this.requests.push(req.url ?? "");
      if (this.intercept?.(req, res)) return;
      handler(req, res);
    });
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Abrupt: open watches are cut, new connections are refused until start(). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Cuts open connections without stopping (a watch broken by the network). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  put(name: string, extra: Record<string, unknown> = {}): void {
    this.store.put("nodes", { metadata: { name }, ...extra } as KubeObject);
  }
}

/** A port that nothing listens on (yet). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
