// The I/O of `status --probe` (probe.ts decides what to send and judges the counters): one
// `ip rule` per target address that routes only UDP to the discard port past the steering, one
// datagram per address, the guard's counters read before and after, and the rules removed again
// whatever happens. Nothing is sent when no guard is loaded: the probe proves a guard that is
// there, it never tests an absent one with real cleartext. What it sends is a fixed string.
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import type { GuardPort } from "./guardKernel";
import type { NodeTable } from "./nodeTable";
import { PROBE_PORT, probeRule, probeTargets, type ProbeResult, type ProbeTarget } from "./probe";
import type { Settings } from "./settings";

const ip = (args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile("ip", args, (e, _stdout, stderr) => resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stderr: stderr.trim() })),
  );

/** Sends one datagram; true when the kernel refused it on output (EPERM: netfilter dropped it there). */
function send(target: ProbeTarget, nodeName: string): Promise<boolean> {
  const socket = createSocket(target.address.includes(":") ? "udp6" : "udp4");
  return new Promise<boolean>((resolve, reject) => {
    socket.on("error", reject);
    socket.send(Buffer.from(`node-router probe from ${nodeName}`), PROBE_PORT, target.address, (e) => {
      socket.close();
      if (!e) resolve(false);
      else if ((e as NodeJS.ErrnoException).code === "EPERM") resolve(true);
      else reject(e);
    });
  });
}

export async function runProbe(settings: Settings, nodeName: string, table: NodeTable | undefined, count: number, guard: GuardPort): Promise<ProbeResult> {
  if (!table) return { targets: [], refused: 0, error: "no table in use (see node-table)" };
  const targets = probeTargets(table, nodeName, count);
  const before = await guard.dropped();
  if (!before || targets.length === 0) return { targets, before, refused: 0 };
  const rules = targets.map((t) => probeRule(settings, t.address));
  const remove = () => Promise.all(rules.map((r) => ip(r.map((a) => (a === "add" ? "del" : a)))));
  await remove(); // a probe killed before its cleanup left these (they are only ever ours: the exact selector)
  try {
    for (const r of rules) {
      const added = await ip(r);
      if (added.code !== 0) return { targets, before, refused: 0, error: `ip ${r.join(" ")}: ${added.stderr}` };
    }
    let refused = 0;
    for (const t of targets) if (await send(t, nodeName)) refused++;
    return { targets, before, after: await guard.dropped(), refused };
  } finally {
    await remove();
  }
}
