// Which devices are the underlay, i.e. where the guard's netdev chain must watch frames
// (AF_PACKET skips the inet hooks, not the device's egress hook). The boot unit (guard.sh)
// applies the same rule: the devices of the default routes (both families), the devices holding
// this node's table addresses, and every device backed by hardware (/sys/class/net/<dev>/device),
// minus loopback, the WireGuard device and the local interfaces. --underlay-devices wins. An empty
// answer is an error: a guard without its raw-frame chain would load and look fine (fail closed).
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

export interface UnderlayFacts {
  /** `ip -j -4 route show default` and `ip -j -6 route show default`, concatenated. */
  defaultRoutes: { dev?: string }[];
  /** `ip -j addr show`. */
  addresses: { ifname?: string; addr_info?: { local?: string }[] }[];
  /** Devices that have /sys/class/net/<dev>/device. */
  physical: string[];
}

export interface UnderlaySettings {
  device: string;
  localInterfaces: string[];
  underlayDevices: string[];
}

export class UnderlayError extends Error {}

const excluded = (name: string, s: UnderlaySettings) =>
  name === "lo" || name === s.device || s.localInterfaces.some((i) => (i.endsWith("*") ? name.startsWith(i.slice(0, -1)) : name === i));

/** The underlay devices, sorted; throws UnderlayError when there is none. */
export function underlayFrom(facts: UnderlayFacts, localAddresses: string[], s: UnderlaySettings): string[] {
  if (s.underlayDevices.length > 0) return [...s.underlayDevices];
  const own = new Set(localAddresses);
  const found = new Set<string>();
  for (const r of facts.defaultRoutes) if (r.dev) found.add(r.dev);
  for (const link of facts.addresses) if (link.ifname && link.addr_info?.some((a) => a.local !== undefined && own.has(a.local))) found.add(link.ifname);
  for (const d of facts.physical) found.add(d);
  const devices = [...found].filter((d) => !excluded(d, s)).sort();
  if (devices.length === 0) {
    throw new UnderlayError(
      "no underlay device found (no default route, no device holding this node's addresses, no physical device): set --underlay-devices / NODE_ROUTER_UNDERLAY_DEVICES, e.g. eth0",
    );
  }
  return devices;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`${cmd} ${args.join(" ")}: ${Buffer.concat(err).toString().trim()}`)),
    );
  });
}

const json = (text: string) => (text.trim() ? JSON.parse(text) : []) as never[];

/** Reads the facts from the host (or from a network namespace, as tests and the lab run it). */
export async function readUnderlayFacts(netns?: string): Promise<UnderlayFacts> {
  const ip = (args: string[]) => run("ip", [...(netns ? ["-n", netns] : []), "-j", ...args]).then(json);
  const [v4, v6, addresses] = await Promise.all([ip(["-4", "route", "show", "default"]), ip(["-6", "route", "show", "default"]), ip(["addr", "show"])]);
  // In a namespace, /sys shows its devices only under `ip netns exec` (which remounts /sys).
  const physical = netns
    ? (await run("ip", ["netns", "exec", netns, "sh", "-c", 'for d in /sys/class/net/*; do [ -e "$d/device" ] && echo "${d##*/}"; done; true']))
        .split("\n")
        .filter(Boolean)
    : readdirSync("/sys/class/net").filter((d) => existsSync(`/sys/class/net/${d}/device`));
  return { defaultRoutes: [...v4, ...v6], addresses, physical };
}

/** The underlay devices for this node: the setting when given, else detected. */
export async function underlayDevices(s: UnderlaySettings, localAddresses: string[], netns?: string): Promise<string[]> {
  if (s.underlayDevices.length > 0) return [...s.underlayDevices];
  return underlayFrom(await readUnderlayFacts(netns), localAddresses, s);
}
