// Watches link events with `ip -o monitor link` and calls back when the WireGuard device
// appears, disappears or changes state. A child process is simpler than polling and reacts
// within milliseconds; the periodic resync covers any event missed while it restarts.
// With `owned`, it also watches rules and routes and calls back when one of the agent's own is
// deleted (by protocol number or table): what systemd-networkd does to foreign routing-policy
// rules and routes when it reconfigures a link. The repair then starts at once, not at the next
// resync. (The agent's own removals trigger one extra kernel read; that is all.)
// The kernel port (kernel.ts, Iproute2Kernel.monitor) starts it: it alone knows how `ip` is run.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface LinkMonitorOptions {
  device: string;
  onChange: () => void;
  onError: (message: string) => void;
  owned?: { protocol: number; tables: number[] };
  /** One of the agent's rules or routes was deleted behind its back (or by itself). */
  onOwnedDeleted?: () => void;
}

/** What one line of `ip -o monitor` says: the device changed, an owned rule or route was deleted, or nothing for us. */
export function monitorLineReader(device: string, owned?: { protocol: number; tables: number[] }): (line: string) => "device" | "owned-deleted" | undefined {
  // One-line records look like "7: cilium_wg0: <...>" or "Deleted 7: cilium_wg0: <...>".
  const mentionsDevice = new RegExp(`^(Deleted )?\\d+: ${device.replace(/[.]/g, "\\.")}[:@]`);
  // "Deleted 1030:\tfrom all lookup 51871 proto 211" / "Deleted 198.18.0.0/16 dev cilium_wg0 table 51871 proto 211 ..."
  const ownedDeleted = owned ? new RegExp(`^Deleted .*(proto ${owned.protocol}\\b|table (${owned.tables.join("|")})\\b)`) : undefined;
  return (line) => (mentionsDevice.test(line) ? "device" : ownedDeleted?.test(line) ? "owned-deleted" : undefined);
}

/** Runs `ip -o monitor ...` through `spawnIp` (the kernel port's), restarting it with backoff when it exits. */
export function startLinkMonitor(o: LinkMonitorOptions, spawnIp: (args: string[]) => ChildProcess): { stop(): void } {
  let child: ChildProcess | undefined;
  let stopped = false;
  let backoffMs = 500;
  const read = monitorLineReader(o.device, o.owned);
  const start = () => {
    child = spawnIp(["-o", "monitor", "link", ...(o.owned ? ["rule", "route"] : [])]);
    const started = Date.now();
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const event = read(line);
      if (event === "device") o.onChange();
      else if (event === "owned-deleted") o.onOwnedDeleted?.();
    });
    child.on("error", (e) => o.onError(`ip monitor: ${e.message}`));
    child.on("close", (code) => {
      if (stopped) return;
      o.onError(`ip monitor exited with ${code}; restarting in ${backoffMs} ms`);
      backoffMs = Date.now() - started > 60_000 ? 500 : Math.min(backoffMs * 2, 30_000);
      setTimeout(start, backoffMs).unref();
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      child?.kill();
    },
  };
}
