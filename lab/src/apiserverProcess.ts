// Parent side of the API stand-in: starts it in the control-plane namespace, changes objects,
// and stops/starts it (the "API goes away" fault). The parent mirrors every object so that a
// restarted stand-in comes back with the cluster it had, plus whatever changed meanwhile.
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { distFile, nodeBinary, spawnInNs, stopChild, waitFor } from "./exec";
import type { Kind, KubeObject } from "./objects";
import { unixRequest } from "./unixHttp";

export class ApiServerProcess {
  private child?: ChildProcess;
  private output = "";
  private mirror = new Map<string, { kind: Kind; object: KubeObject }>();
  private rv = 1;
  readonly socket: string;

  constructor(
    private readonly ns: string,
    private readonly listen: string,
    private readonly dir: string,
  ) {
    this.socket = join(dir, "api.sock");
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    // A restart begins well past every resourceVersion handed out: resuming watches get 410 and relist.
    const stateFile = join(this.dir, "api-state.json");
    writeFileSync(stateFile, JSON.stringify({ resourceVersion: this.rv + 1000, objects: [...this.mirror.values()] }));
    this.rv += 1000;
    const child = spawnInNs(this.ns, [
      nodeBinary(),
      distFile("lab/src/apiserverMain.js"),
      "--listen",
      this.listen,
      "--control",
      this.socket,
      "--state",
      stateFile,
    ]);
    this.child = child;
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      "API stand-in to listen",
      () => {
        if (!this.running) throw new Error(`API stand-in exited: ${this.output}`);
        return this.output.includes("listening");
      },
      10_000,
      50,
    );
  }

  /** The stand-in disappears abruptly (connections reset), like a crashed API server. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
  }

  /** Adds or replaces an object; while stopped, the change waits for the next start. */
  async put(kind: Kind, object: KubeObject): Promise<void> {
    this.mirror.set(`${kind}/${object.metadata.name}`, { kind, object });
    if (!this.running) return;
    const r = await unixRequest<{ resourceVersion: number }>(this.socket, "PUT", `/lab/objects/${kind}/${encodeURIComponent(object.metadata.name)}`, object);
    this.rv = Math.max(this.rv, r.resourceVersion);
  }

  async delete(kind: Kind, name: string): Promise<void> {
    this.mirror.delete(`${kind}/${name}`);
    if (!this.running) return;
    const r = await unixRequest<{ resourceVersion: number }>(this.socket, "DELETE", `/lab/objects/${kind}/${encodeURIComponent(name)}`);
    this.rv = Math.max(this.rv, r.resourceVersion);
  }

  async state(): Promise<{ resourceVersion: number; watches: number }> {
    return unixRequest(this.socket, "GET", "/lab/state");
  }

  get(kind: Kind, name: string): KubeObject | undefined {
    return this.mirror.get(`${kind}/${name}`)?.object;
  }
}
