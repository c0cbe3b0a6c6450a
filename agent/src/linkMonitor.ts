// Watches link events with `ip -o monitor link` and calls back when the WireGuard device
// appears, disappears or changes state. A child process is simpler than polling and reacts
// within milliseconds; the periodic resync covers any event missed while it restarts.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface LinkMonitorOptions {
  device: string;
  netns?: string;
  onChange: () => void;
  onError: (message: string) => void;
}

export function startLinkMonitor(o: LinkMonitorOptions): { stop(): void } {
  let child: ChildProcess | undefined;
  let stopped = false;
  let backoffMs = 500;
  // One-line records look like "7: cilium_wg0: <...>" or "Deleted 7: cilium_wg0: <...>".
  const mentionsDevice = new RegExp(`^(Deleted )?\\d+: ${o.device.replace(/[.]/g, "\\.")}[:@]`);
  const start = () => {
    const args = [...(o.netns ? ["-n", o.netns] : []), "-o", "monitor", "link"];
    child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    const started = Date.now();
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (mentionsDevice.test(line)) o.onChange();
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
