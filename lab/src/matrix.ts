// The leak matrix: run every flow once (all in parallel), then attribute the underlay's
// cleartext packets to flows. Formatting is pure and separate from running.
import { FLOW_CLASSES, packetOfFlow, planFlows, type Flow, type FlowClass } from "./flows";
import type { Lab } from "./lab";
import type { Packet } from "./capture";

export interface FlowResult {
  cls: FlowClass;
  from: string;
  to: string;
  src: string;
  dst: string;
  port: number;
  ok: boolean;
  error?: string;
  cleartext: number;
  exempt: boolean;
}

export interface MatrixReport {
  results: FlowResult[];
  /** Cleartext packets of flows that are not exempt. */
  leakedPackets: number;
  failedFlows: number;
  /** Cleartext packets not belonging to any flow (agents' API traffic to 6443 is expected here). */
  other: { exempt: number; leaked: number };
  /** Packets tcpdump lost (kernel drops) so far: must be 0 for the counts to be complete. */
  captureDrops: number;
}

/** Runs each flow from its client namespace; counts cleartext per flow from the capture. */
export async function runMatrix(lab: Lab, timeoutMs = 1500): Promise<MatrixReport> {
  const flows = planFlows(lab.nodes);
  const mark = lab.capture.mark();
  const byNs = new Map<string, Flow[]>();
  for (const f of flows) byNs.set(f.clientNs, [...(byNs.get(f.clientNs) ?? []), f]);
  const outcomes = new Map<Flow, { ok: boolean; error?: string; localPort?: number }>();
  await Promise.all(
    [...byNs].map(async ([ns, fs]) => {
      const res = await lab.helper(ns).probes(fs.map((f) => ({ host: f.dstIp, port: f.port, timeoutMs })));
      fs.forEach((f, i) => outcomes.set(f, res[i]));
    }),
  );
  await lab.capture.settle();
  return { ...attribute(flows, outcomes, lab.capture.since(mark), lab), captureDrops: await lab.capture.droppedByKernel() };
}

function attribute(
  flows: Flow[],
  outcomes: Map<Flow, { ok: boolean; error?: string; localPort?: number }>,
  packets: Packet[],
  lab: Lab,
): Omit<MatrixReport, "captureDrops"> {
  const claimed = new Set<Packet>();
  const results = flows.map((f): FlowResult => {
    const o = outcomes.get(f)!;
    const mine = packets.filter((p) => packetOfFlow(p, f, o.localPort));
    mine.forEach((p) => claimed.add(p));
    return {
      cls: f.cls,
      from: f.from.name,
      to: f.to.name,
      src: f.srcIp,
      dst: f.dstIp,
      port: f.port,
      ok: o.ok,
      ...(o.error ? { error: o.error } : {}),
      cleartext: mine.length,
      exempt: f.exempt,
    };
  });
  const rest = packets.filter((p) => !claimed.has(p));
  const cp = new Set(lab.nodes.filter((n) => n.controlPlane).map((n) => n.underlayIp));
  const restExempt = rest.filter(
    (p) => p.proto === "tcp" && ((cp.has(p.dst) && [6443, 2379, 2380].includes(p.dport ?? 0)) || (cp.has(p.src) && [6443, 2379, 2380].includes(p.sport ?? 0))),
  ).length;
  return {
    results,
    leakedPackets: results.filter((r) => !r.exempt).reduce((s, r) => s + r.cleartext, 0),
    failedFlows: results.filter((r) => !r.ok).length,
    other: { exempt: restExempt, leaked: rest.length - restExempt },
  };
}

/** Cell text: "ok 0" (encrypted), "ok 6 LEAK", "ok 6 exempt", "FAIL 0". */
function cell(r: FlowResult | undefined): string {
  if (!r) return "-";
  const status = r.ok ? "ok" : "FAIL";
  const tag = r.cleartext === 0 ? "" : r.exempt ? " exempt" : " LEAK";
  return `${status} ${r.cleartext}${tag}`;
}

export function formatMatrix(title: string, report: MatrixReport): string {
  const pairs = [...new Set(report.results.map((r) => `${r.from} -> ${r.to}`))];
  const header = ["from -> to", ...FLOW_CLASSES];
  const rows = pairs.map((pair) => [pair, ...FLOW_CLASSES.map((c) => cell(report.results.find((r) => `${r.from} -> ${r.to}` === pair && r.cls === c)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [
    `== ${title}`,
    line(header),
    ...rows.map(line),
    `flows: ${report.results.length}, failed: ${report.failedFlows}, cleartext packets outside the exemption: ${report.leakedPackets}` +
      `; other cleartext on the underlay: ${report.other.exempt} exempt (API/etcd), ${report.other.leaked} not exempt; capture drops: ${report.captureDrops}`,
    "cell = flow result, then cleartext packets of that flow seen on the underlay (exempt = TCP to a control-plane exempt port)",
  ].join("\n");
}
