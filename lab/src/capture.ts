// Watches the underlay: tcpdump on every bridge port of the underlay namespace (-i any, ingress
// only, so each frame is seen once: where it enters the bridge from its sending node). The BPF
// filter drops WireGuard (UDP 51871 on both ends) and ARP; everything left is cleartext.
// A large kernel buffer (-B, KiB) matters: with the default, bursts of the matrix lose packets.
// A second tcpdump writes the same frames to a pcap file: the fault tests count the frames that
// carry their payload marker (pcap.ts).
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { sleep, spawnInNs, stopChild, waitFor } from "./exec";
import { parsePcap, withMarker, type PcapPacket } from "./pcap";
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
  const proto =
    /^Flags \[/.test(rest) || /^tcp\b/.test(rest) ? "tcp" : /^UDP\b/.test(rest) || /^udp\b/i.test(rest) ? "udp" : /^ICMP\b/.test(rest) ? "icmp" : "other";
  const port = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  return { t: Number(m[1]), iface: m[2], proto, src: m[3], sport: port(m[4]), dst: m[5], dport: port(m[6]), line };
}

/** One tcpdump process in the underlay namespace, with its stderr (start line, counters). */
class Tcpdump {
  child?: ChildProcess;
  stderr = "";

  constructor(
    private readonly ns: string,
    private readonly args: string[],
  ) {}

  async start(onLine?: (line: string) => void): Promise<void> {
    const child = spawnInNs(this.ns, ["tcpdump", "-i", "any", "-Q", "in", "-B", "65536", "-n", ...this.args, CLEARTEXT_FILTER]);
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    if (onLine) createInterface({ input: child.stdout! }).on("line", onLine);
    await waitFor(
      `tcpdump in ${this.ns}`,
      () => {
        if (child.exitCode !== null) throw new Error(`tcpdump exited: ${this.stderr}`);
        return this.stderr.includes("listening on");
      },
      10_000,
      50,
    );
  }

  /** Packets the kernel dropped before tcpdump saw them (SIGUSR1 makes tcpdump print its counters). */
  async droppedByKernel(): Promise<number> {
    if (!this.child || this.child.exitCode !== null) throw new Error("tcpdump is not running");
    const before = this.stderr.length;
    this.child.kill("SIGUSR1");
    const line = await waitFor("tcpdump counters", () => /(\d+) packets dropped by kernel/.exec(this.stderr.slice(before)), 3000, 20);
    return Number(line?.[1]);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGTERM", 1000);
  }
}

/**
 * Two tcpdumps with the same filter: one prints a line per packet (addresses and ports, for the
 * flow attribution), the other writes every frame's bytes to a pcap file (-U: flushed per packet),
 * where the fault tests look for their payload markers.
 */
export class Capture {
  readonly packets: Packet[] = [];
  readonly pcapFile: string;
  private readonly text: Tcpdump;
  private readonly pcap: Tcpdump;
  private lastLineAt = 0;

  constructor(ns: string, dir: string) {
    this.pcapFile = join(dir, "underlay.pcap");
    this.text = new Tcpdump(ns, ["-tt", "-l", "--immediate-mode"]);
    // 2048 bytes of each frame: the largest probe (a 488-byte ICMP error) fits with room to spare.
    this.pcap = new Tcpdump(ns, ["-s", "2048", "-U", "--immediate-mode", "-w", this.pcapFile]);
  }

  async start(): Promise<void> {
    await this.text.start((line) => {
      this.lastLineAt = Date.now();
      const p = parseTcpdumpLine(line);
      this.packets.push(p ?? { t: Date.now() / 1000, iface: "?", proto: "other", src: "?", dst: "?", line });
    });
    await this.pcap.start();
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

  /** Packets either tcpdump lost in the kernel. A leak count is only worth something when this is zero. */
  async droppedByKernel(): Promise<number> {
    return (await this.text.droppedByKernel()) + (await this.pcap.droppedByKernel());
  }

  since(mark: number): Packet[] {
    return this.packets.slice(mark);
  }

  /** Frames captured so far (WireGuard UDP and ARP excluded) whose bytes contain `marker`. */
  async markerPackets(marker: string): Promise<PcapPacket[]> {
    await this.settle();
    return withMarker(parsePcap(readFileSync(this.pcapFile)), marker);
  }

  async stop(): Promise<void> {
    await this.text.stop();
    await this.pcap.stop();
  }
}
