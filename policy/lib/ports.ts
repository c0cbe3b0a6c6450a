// Port-range math for exempt-port lists and firewall rules: inclusive [from, to] ranges.
export interface PortRange {
  from: number;
  to: number;
}

export const ALL_PORTS: PortRange = { from: 0, to: 65535 };

/** Parses "6443", "2379-2380", 6443 or "6443,2379-2380"; throws naming the bad entry. */
export function parsePorts(spec: string | number | ReadonlyArray<string | number>): PortRange[] {
  const items = Array.isArray(spec) ? spec : String(spec).split(",");
  const out: PortRange[] = [];
  for (const raw of items) {
    const text = String(raw).trim();
    if (text === "") continue;
    const m = /^(\d{1,5})(?:\s*[-:]\s*(\d{1,5}))?$/.exec(text);
    if (!m) throw new Error(`'${text}' is not a port or port range (expected e.g. 6443 or 2379-2380)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > 65535 || to > 65535 || to < from) throw new Error(`'${text}' is not a valid port range`);
    out.push({ from, to });
  }
  return out;
}

function merge(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** The parts of `range` not covered by `allowed` (empty when fully covered). */
export function uncovered(range: PortRange, allowed: readonly PortRange[]): PortRange[] {
  const gaps: PortRange[] = [];
  let next = range.from;
  for (const a of merge(allowed)) {
    if (a.to < next) continue;
    if (a.from > range.to) break;
    if (a.from > next) gaps.push({ from: next, to: Math.min(a.from - 1, range.to) });
    next = Math.max(next, a.to + 1);
    if (next > range.to) break;
  }
  if (next <= range.to) gaps.push({ from: next, to: range.to });
  return gaps;
}

export function includesPort(ranges: readonly PortRange[], port: number): boolean {
  return ranges.some((r) => r.from <= port && port <= r.to);
}

export function formatPorts(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(",");
}

/** True when some range of `a` shares a port with some range of `b`. */
export function overlaps(a: readonly PortRange[], b: readonly PortRange[]): boolean {
  return a.some((x) => b.some((y) => x.from <= y.to && y.from <= x.to));
}
