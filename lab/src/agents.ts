// The real node-router agent, one per node, started in the node's network namespace exactly as
// the DaemonSet runs it (host network), with its default settings except where the lab must
// differ: out-of-cluster kubeconfig and a health/metrics port per node.
import type { ChildProcess } from "node:child_process";
import { createWriteStream, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { CGROUP2_MOUNT } from "./cgroups";
import { agentHasFlag } from "./features";
import { distFile, inNs, inPrivateMounts, nodeBinary, spawnInNs, stopChild } from "./exec";
import type { NsHelper } from "./helperProcess";
import type { NodePlan } from "./plan";
import { WITH_RUN_DIR, wireGuardRunDir } from "./wireguard";

/** A kubeconfig (JSON is YAML) for the API stand-in: plain HTTP, no credentials. */
export function writeKubeconfig(dir: string, server: string): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    JSON.stringify(
      {
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain http unless TLS verification is off; the stand-in speaks http.
        clusters: [{ name: "lab", cluster: { server, "insecure-skip-tls-verify": true } }],
        users: [{ name: "lab", user: {} }],
        contexts: [{ name: "lab", context: { cluster: "lab", user: "lab" } }],
        "current-context": "lab",
      },
      null,
      2,
    ),
  );
  return file;
}

/** `sh -c` prefix for whatever loads the guard: nft resolves `socket cgroupv2` paths under
 * /sys/fs/cgroup of its mount namespace (cgroups.ts), so it runs in a private one with cgroup v2 there. */
export const GUARD_MOUNTS = `${CGROUP2_MOUNT} && exec "$@"`;

/** The guard's settings the lab gives every loader (boot step and agent), when the agent has them. */
export function labGuardArgs(metadataCgroup: string): string[] {
  return agentHasFlag("metadata-cgroups") ? ["--metadata-cgroups", metadataCgroup] : [];
}

/** What the boot script did before kubelet starts in the previous round: the agent's own `guard apply` from the table file. */
export function bootGuard(node: Pick<NodePlan, "ns" | "name">, tableFile: string, guardArgs: string[] = []): void {
  inNs(
    node.ns,
    inPrivateMounts(GUARD_MOUNTS, [
      "sh",
      nodeBinary(),
      distFile("agent/src/main.js"),
      "guard",
      "apply",
      "--node-table",
      tableFile,
      "--node-name",
      node.name,
      ...guardArgs,
    ]),
  );
}

/** The ruleset the program renders into a node's boot files (`guard print`, the same renderer). */
export function renderGuard(node: NodePlan, tableFile: string, guardArgs: string[] = []): string {
  return inNs(node.ns, [nodeBinary(), distFile("agent/src/main.js"), "guard", "print", "--node-table", tableFile, "--node-name", node.name, ...guardArgs])
    .stdout;
}

export class AgentProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  readonly logFile: string;
  starts = 0;

  private readonly runDir: string;

  constructor(
    readonly node: NodePlan,
    private readonly kubeconfig: string,
    dir: string,
    private readonly helper: NsHelper,
    private readonly extraArgs: string[] = [],
  ) {
    this.logFile = join(dir, `agent-${node.name}.log`);
    this.runDir = wireGuardRunDir(dir, node.ns);
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  start(): void {
    if (this.running) throw new Error(`agent on ${this.node.name} already runs`);
    const address = `127.0.0.1:${this.node.agentHealthPort}`;
    this.log ??= createWriteStream(this.logFile, { flags: "a" });
    // The node's /run/wireguard (wireguard-go's socket) where `wg` looks, as on a host with a
    // userspace WireGuard, and cgroup v2 on /sys/fs/cgroup (see GUARD_MOUNTS); `unshare` and `sh -c exec` keep the pid: child.pid is the agent.
    const child = spawnInNs(
      this.node.ns,
      inPrivateMounts(`${CGROUP2_MOUNT} && ${WITH_RUN_DIR}`, [
        this.runDir,
        nodeBinary(),
        distFile("agent/src/main.js"),
        "run",
        "--node-name",
        this.node.name,
        "--kubeconfig",
        this.kubeconfig,
        "--health-address",
        address,
        "--metrics-address",
        address,
        ...this.extraArgs,
      ]),
    );
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    this.starts++;
  }

  /** GET /readyz from inside the node's namespace (where the agent listens). */
  async ready(): Promise<boolean> {
    if (!this.running) return false;
    const r = await this.helper.httpGet(`http://127.0.0.1:${this.node.agentHealthPort}/readyz`);
    return r.status === 200;
  }

  async metrics(): Promise<string> {
    return (await this.helper.httpGet(`http://127.0.0.1:${this.node.agentHealthPort}/metrics`)).body;
  }

  /** SIGTERM: the agent leaves its kernel state in place (restart/upgrade path). */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGTERM", 5000);
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
  }

  close(): void {
    this.log?.end();
  }
}
