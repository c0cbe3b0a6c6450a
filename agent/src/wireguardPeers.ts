// The WireGuard device's peers, read with `wg show <device> allowed-ips|dump` (kernel WireGuard over
// generic netlink, or a userspace implementation's socket in /run/wireguard; needs NET_ADMIN,
// which the agent has). Read-only: the agent never changes Cilium's peers. `netns` lets tests
// drive a network namespace the way production drives the host.
import { spawn } from "node:child_process";
import { parseAllowedIps, parseWgDump, type WgPeer } from "./peers";

export class WireGuardPeers {
  constructor(
    private readonly netns?: string,
    private readonly wgBinary = "wg",
  ) {}

  /** Every allowed-IP prefix of every peer; empty when the device does not exist. */
  async allowedIps(device: string): Promise<string[]> {
    const out = await this.show(device, "allowed-ips");
    return out === undefined ? [] : parseAllowedIps(out);
  }

  /** Every peer, with its endpoint and allowed IPs (`wg show <device> dump`); empty when the device does not exist. */
  async peers(device: string): Promise<WgPeer[]> {
    const out = await this.show(device, "dump");
    return out === undefined ? [] : parseWgDump(out);
  }

  /** The output of `wg show <device> <what>`; undefined when there is no such device. */
  private async show(device: string, what: string): Promise<string | undefined> {
    const args = ["show", device, what];
    const [cmd, full] = this.netns ? ["ip", ["netns", "exec", this.netns, this.wgBinary, ...args]] : [this.wgBinary, args];
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(cmd, full, { stdio: ["ignore", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", (e) => reject(new Error(`${this.wgBinary}: ${e.message} (is the wireguard-tools package installed?)`)));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    });
    if (r.code === 0) return r.stdout;
    // No such device (kernel WireGuard), or no WireGuard at all for it: a device that is not there has no peers.
    if (/Unable to access interface: (No such device|Protocol not supported)/.test(r.stderr)) return undefined;
    throw new Error(`wg show ${device} ${what}: ${r.stderr.trim().slice(0, 500)}`);
  }
}
