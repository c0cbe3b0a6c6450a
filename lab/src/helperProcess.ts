// Parent side of a namespace helper: start it, run probes and HTTP GETs from inside its namespace.
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { distFile, nodeBinary, spawnInNs, stopChild, waitFor } from "./exec";
import { unixRequest } from "./unixHttp";

export interface Probe {
  host: string;
  port: number;
  timeoutMs?: number;
}
export interface ProbeResult {
  ok: boolean;
  ms: number;
  localPort?: number;
  error?: string;
}

export class NsHelper {
  private child?: ChildProcess;
  private output = "";
  readonly socket: string;

  constructor(
    readonly ns: string,
    dir: string,
    private readonly ports: number[],
  ) {
    this.socket = join(dir, `${ns}.sock`);
  }

  async start(): Promise<void> {
    const child = spawnInNs(this.ns, [nodeBinary(), distFile("lab/src/helperMain.js"), "--control", this.socket, "--tcp", this.ports.join(",")]);
    this.child = child;
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      `helper in ${this.ns}`,
      () => {
        if (child.exitCode !== null) throw new Error(`helper in ${this.ns} exited: ${this.output}`);
        return this.output.includes("ready");
      },
      10_000,
      50,
    );
  }

  probes(probes: Probe[]): Promise<ProbeResult[]> {
    return unixRequest(this.socket, "POST", "/probes", { probes }, 30_000);
  }

  httpGet(url: string, timeoutMs = 1000): Promise<{ status: number; body: string }> {
    return unixRequest(this.socket, "POST", "/http-get", { url, timeoutMs });
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
  }
}
