// Fails early, naming what is missing and how to get it (never a silent skip).
import { spawnSync } from "node:child_process";

const TOOLS: [string, string[], string][] = [
  ["ip", ["-V"], "iproute2"],
  ["tcpdump", ["--version"], "tcpdump"],
  ["wireguard-go", ["--version"], "wireguard-go"],
  ["wg", ["--version"], "wireguard-tools"],
  ["nsenter", ["--version"], "util-linux"],
  ["unshare", ["--version"], "util-linux"],
  ["nft", ["--version"], "nftables"],
];

/** Throws unless we are root and every tool the lab runs is on PATH. */
export function requireTools(): void {
  if (process.getuid?.() !== 0) throw new Error("the lab needs root (network namespaces, WireGuard, tcpdump): run it as root");
  const missing = TOOLS.filter(([cmd, args]) => spawnSync(cmd, args).error).map(([cmd, , pkg]) => `${cmd} (apt-get install ${pkg})`);
  if (missing.length) throw new Error(`the lab needs these tools on PATH: ${missing.join(", ")}`);
}
