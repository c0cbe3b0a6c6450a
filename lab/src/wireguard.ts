// One wireguard-go per node. Each instance needs its own /run/wireguard (the control socket is
// named after the device, and every node's device is cilium_wg0), so it runs in a private mount
// namespace with a tmpfs on /run and the node's own directory of the lab bound on /run/wireguard
// (wireGuardRunDir). `wg` joins that mount namespace with nsenter; the node's agent binds the same
// directory (agents.ts), so it reads its device's peers with `wg` as it would a kernel device's,
// also after wireguard-go was restarted.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inPrivateMounts, ipIn, run, spawnInNs, stopChild, waitFor } from "./exec";
import { IFACE } from "./plan";

/** The node's /run/wireguard, a directory of the lab (created on first use). */
export function wireGuardRunDir(labDir: string, ns: string): string {
  const dir = join(labDir, `${ns}-wireguard`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `sh -c` script for a private mount namespace whose /run/wireguard is "$0"; then runs "$@". */
export const WITH_RUN_DIR = 'mount -t tmpfs nrlab-run /run && mkdir /run/wireguard && mount --bind "$0" /run/wireguard && exec "$@"';

/** `cmd` in a node's namespace with the node's /run/wireguard bound, where `wg` finds its device (as the agent, and `kubectl exec` into its pod, would). */
export function withNodeRunDir(labDir: string, ns: string, cmd: string[]): string[] {
  return inPrivateMounts(WITH_RUN_DIR, [wireGuardRunDir(labDir, ns), ...cmd]);
}

export class WireGuardDevice {
  private child?: ChildProcess;
  private log = "";

  /** `dir` holds the configuration file `wg setconf` reads (its stdin cannot be a node pipe). */
  constructor(
    private readonly ns: string,
    private readonly dir: string,
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts wireguard-go and waits until its control socket answers. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`wireguard-go already runs in ${this.ns}`);
    // `ip netns exec`, `unshare` (no --fork) and `exec` all keep the pid: child.pid is wireguard-go.
    const child = spawnInNs(this.ns, inPrivateMounts(WITH_RUN_DIR, [wireGuardRunDir(this.dir, this.ns), "wireguard-go", "-f", IFACE.wg]), {
      WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1",
    });
    this.child = child;
    this.log = "";
    child.stdout?.on("data", (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.log += d.toString()));
    await waitFor(
      `wireguard-go in ${this.ns} (${this.log.slice(-300)})`,
      () => {
        if (!this.running) throw new Error(`wireguard-go exited: ${this.log.slice(-500)}`);
        const comm = readFileSync(`/proc/${child.pid}/comm`, "utf8").trim();
        return comm === "wireguard-go" && this.wg(["show", IFACE.wg], true).code === 0;
      },
      10_000,
      50,
    );
  }

  /** Applies a full configuration (wg setconf) and brings the device up. */
  configure(config: string): void {
    const file = join(this.dir, `${this.ns}-wg.conf`);
    writeFileSync(file, config, { mode: 0o600 });
    try {
      this.wg(["setconf", IFACE.wg, file]);
    } finally {
      rmSync(file, { force: true });
    }
    ipIn(this.ns, `link set ${IFACE.wg} up`);
  }

  /** Abrupt death (the fault): the device vanishes with the process. */
  async kill(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
    await waitFor(`${IFACE.wg} gone from ${this.ns}`, () => ipIn(this.ns, `link show ${IFACE.wg}`, { allowFailure: true }).code !== 0, 5000, 20);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGTERM", 2000);
  }

  private wg(args: string[], allowFailure = false) {
    const pid = this.child?.pid;
    if (!pid) throw new Error(`wireguard-go not started in ${this.ns}`);
    return run("nsenter", [`--mount=/proc/${pid}/ns/mnt`, `--net=/run/netns/${this.ns}`, "wg", ...args], { allowFailure });
  }
}
