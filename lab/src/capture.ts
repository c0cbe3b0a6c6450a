// Watches the underlay: tcpdump on every bridge port of the underlay namespace (-i any, ingress
// only, so each frame is seen once: where it enters the bridge from its sending node). The BPF
// filter drops WireGuard (UDP 51871 on both ends) and ARP; everything left is cleartext.
// A large kernel buffer (-B, KiB) matters: with the default, bursts of the matrix lose packets.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { sleep, spawnInNs, stopChild, waitFor } from "./exec";
import { WG_PORT } from "./plan";

export interface Packet {
  t: number;
  iface: string;
  proto: "tcp" | "udp" | "icmp" | "other";
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  line: string;
}

export const CLEARTEXT_FILTER = `not arp and not (udp src port ${WG_PORT} and udp dst port ${WG_PORT})`;

const ADDR = String.raw`(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?`;
// Direction is "P" (to another host: bridged), "In" (to the bridge itself), "M" or "B".
const LINE = new RegExp(String.raw`^(\d+\.\d+)\s+(\S+)\s+(?:In|P|M|B)\s+IP\s+${ADDR}\s+>\s+${ADDR}:\s*(.*)$`);

/** Parses one line of `tcpdump -i any -n -tt -l` output; undefined for anything else. */
export function parseTcpdumpLine(line: string): Packet | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const rest = m[7];
  const proto = /^Flags \[/.test(rest) || /^tcp\b/.test(rest) ? "tcp" : /^UDP\b/.test(rest) || /^udp\b/i.test(rest) ? "udp" : /^ICMP\b/.test(rest) ? "icmp" : "other";
  const port = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  return { t: Number(m[1]), iface: m[2], proto, src: m[3], sport: port(m[4]), dst: m[5], dport: port(m[6]), line };
}

export class Capture {
  readonly packets: Packet[] = [];
  private child?: ChildProcess;
  private stderr = "";
  private lastLineAt = 0;

  constructor(private readonly ns: string) {}

  async start(): Promise<void> {
    const child = spawnInNs(this.ns, ["tcpdump", "-i", "any", "-Q", "in", "-B", "65536", "-n", "-tt", "-l", "--immediate-mode", CLEARTEXT_FILTER]);
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      this.lastLineAt = Date.now();
      const p = parseTcpdumpLine(line);
      this.packets.push(p ?? { t: Date.now() / 1000, iface: "?", proto: "other", src: "?", dst: "?", line });
    });
    await waitFor(`tcpdump in ${this.ns}`, () => {
      if (child.exitCode !== null) throw new Error(`tcpdump exited: ${this.stderr}`);
      return this.stderr.includes("listening on");
    }, 10_000, 50);
  }

  /** Index to count from: `since(capture.mark())` after some traffic. */
  mark(): number {
    return this.packets.length;
  }

  /** Waits until tcpdump has been quiet briefly, so that every packet sent so far is counted. */
  async settle(quietMs = 150, maxMs = 1500): Promise<void> {
    const start = Date.now();
    await sleep(quietMs);
    while (Date.now() - this.lastLineAt < quietMs && Date.now() - start < maxMs) await sleep(quietMs / 3);
  }

  /**
   * Packets the kernel dropped before tcpdump saw them (asked with SIGUSR1, which makes tcpdump
   * print its counters). A leak count is only worth something when this is zero.
   */
  async droppedByKernel(): Promise<number> {
    if (!this.child || this.child.exitCode !== null) throw new Error("tcpdump is not running");
    const before = this.stderr.length;
    this.child.kill("SIGUSR1");
    const line = await waitFor("tcpdump counters", () => /(\d+) packets dropped by kernel/.exec(this.stderr.slice(before)), 3000, 20);
    return Number(line?.[1]);
  }

  since(mark: number): Packet[] {
    return this.packets.slice(mark);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGTERM", 1000);
  }
}
