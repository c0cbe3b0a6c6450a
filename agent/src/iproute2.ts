// Pure translation between the model and iproute2: batch lines out, `ip -j` JSON in.
// Ownership is decided here: a rule is ours only if its priority is in our range AND it
// carries our protocol number; a route only if it is in one of our tables with our protocol.
import { portRangeText, type Family, type PortRange, type Route, type RouteType, type Rule } from "./model";

export interface Ownership {
  firstPriority: number;
  /** Exclusive upper bound of the owned priority range. */
  endPriority: number;
  protocol: number;
  tables: number[];
}

const hex = (n: number) => "0x" + n.toString(16);

function ruleArgs(r: Rule): string {
  const parts = [`priority ${r.priority}`];
  if (r.fwmark !== undefined) parts.push(`fwmark ${hex(r.fwmark)}/${hex(r.fwmask ?? 0xffffffff)}`);
  if (r.ipproto) parts.push(`ipproto ${r.ipproto}`);
  if (r.sport) parts.push(`sport ${portRangeText(r.sport)}`);
  if (r.dport) parts.push(`dport ${portRangeText(r.dport)}`);
  parts.push(`lookup ${r.table}`, `protocol ${r.protocol}`);
  return parts.join(" ");
}

// Built as one template string: it runs once per route (20,000 for 5,000 nodes) on a full apply.
function routeArgs(r: Route): string {
  const head = r.type === "unicast" ? r.dst : `${r.type} ${r.dst}`;
  const device = r.type === "unicast" && r.dev ? ` dev ${r.dev}` : "";
  const source = r.type === "unicast" && r.src ? ` src ${r.src}` : "";
  return `${head} table ${r.table} proto ${r.protocol} metric ${r.metric}${device}${source}`;
}

// `replace` makes a route add idempotent; rules have no replace, so "File exists" is success.
export const addRuleLine = (r: Rule) => `rule add ${ruleArgs(r)}`;
export const delRuleLine = (r: Rule) => `rule del ${ruleArgs(r)}`;
export const addRouteLine = (r: Route) => `route replace ${routeArgs(r)}`;
export const delRouteLine = (r: Route) => `route del ${routeArgs(r)}`;

/** Errors that mean the kernel already is in the state the line asked for. */
export function isBenignError(line: string, message: string): boolean {
  if (line.startsWith("rule add")) return /File exists/.test(message);
  if (/^(rule|route) del/.test(line)) return /No such (process|file or directory)/.test(message);
  return false;
}

/**
 * Reads `ip -force -batch` stderr a line at a time. ip reports a failed line as its message(s)
 * followed by "Command failed -:<line>": that line closes the messages before it.
 */
export class BatchErrorReader {
  private pending: string[] = [];

  /** The failed line's number (1-based) and ip's message, when `line` reports one. */
  read(line: string): { lineNo: number; message: string } | undefined {
    const text = line.trim();
    const failed = /^Command failed .*:(\d+)$/.exec(text);
    if (!failed) {
      if (text) this.pending.push(text);
      return undefined;
    }
    const message = this.pending.join("; ") || "failed";
    this.pending = [];
    return { lineNo: Number(failed[1]), message };
  }
}

/** Splits a whole `ip -force -batch` stderr into per-line errors (1-based line numbers). */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const reader = new BatchErrorReader();
  const errors = new Map<number, string>();
  for (const line of stderr.split("\n")) {
    const failed = reader.read(line);
    if (failed) errors.set(failed.lineNo, failed.message);
  }
  return errors;
}

type Json = Record<string, unknown>;
const KNOWN_RULE_KEYS = new Set([
  "priority",
  "src",
  "table",
  "protocol",
  "fwmark",
  "fwmask",
  "ipproto",
  "sport",
  "sport_start",
  "sport_end",
  "dport",
  "dport_start",
  "dport_end",
  "flags",
]);

function portRange(j: Json, name: "sport" | "dport"): PortRange | undefined {
  if (typeof j[name] === "number") return { start: j[name] as number, end: j[name] as number };
  if (typeof j[`${name}_start`] === "number") return { start: j[`${name}_start`] as number, end: j[`${name}_end`] as number };
  return undefined;
}

const numeric = (v: unknown): number | undefined => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : typeof v === "number" ? v : undefined);

/** An owned rule from `ip -j -d rule show`, or undefined for anything not ours. */
export function parseRule(j: Json, family: Family, own: Ownership): Rule | undefined {
  const priority = j.priority;
  if (typeof priority !== "number" || priority < own.firstPriority || priority >= own.endPriority) return undefined;
  if (numeric(j.protocol) !== own.protocol) return undefined;
  const extras = Object.keys(j)
    .filter((k) => !KNOWN_RULE_KEYS.has(k) || (k === "src" && j.src !== "all"))
    .sort();
  const table = j.table === "main" ? "main" : numeric(j.table);
  if (table === undefined) extras.push(`table=${String(j.table)}`);
  if (j.ipproto !== undefined && j.ipproto !== "tcp" && j.ipproto !== "udp") extras.push(`ipproto=${String(j.ipproto)}`);
  const rule: Rule = { family, priority, table: table ?? -1, protocol: own.protocol };
  if (typeof j.fwmark === "string") {
    rule.fwmark = Number(j.fwmark);
    rule.fwmask = typeof j.fwmask === "string" ? Number(j.fwmask) : 0xffffffff;
  }
  if (j.ipproto === "tcp" || j.ipproto === "udp") rule.ipproto = j.ipproto;
  const sport = portRange(j, "sport");
  const dport = portRange(j, "dport");
  if (sport) rule.sport = sport;
  if (dport) rule.dport = dport;
  if (extras.length > 0) rule.extra = extras.map((k) => (k.includes("=") ? k : `${k}=${JSON.stringify(j[k])}`)).join(",");
  return rule;
}

const ROUTE_TYPES: RouteType[] = ["unicast", "blackhole", "throw", "unreachable"];

/** An owned route from `ip -j route show table T`, or undefined for anything not ours. */
export function parseRoute(j: Json, family: Family, table: number, own: Ownership): Route | undefined {
  if (numeric(j.protocol) !== own.protocol) return undefined;
  const rawType = typeof j.type === "string" ? j.type : "unicast";
  const type = ROUTE_TYPES.find((t) => t === rawType);
  if (!type || typeof j.dst !== "string") return undefined;
  const hostLen = family === 4 ? 32 : 128;
  const dst = j.dst === "default" ? (family === 4 ? "0.0.0.0/0" : "::/0") : j.dst.includes("/") ? j.dst : `${j.dst}/${hostLen}`;
  const route: Route = { family, table, dst, type, metric: typeof j.metric === "number" ? j.metric : 0, protocol: own.protocol };
  // IPv6 blackholes report dev "lo"; only a unicast route's device is part of its identity.
  if (type === "unicast" && typeof j.dev === "string") route.dev = j.dev;
  if (type === "unicast" && typeof j.prefsrc === "string") route.src = j.prefsrc;
  return route;
}
