// Settings from command-line flags and environment variables, each checked by its own function.
// A flag wins over its environment variable, which wins over the default. Every error names
// the flag, the environment variable and what a valid value looks like.
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import type { PortRange } from "./model";
import { parseSelector, type LabelSelector } from "./selector";

/** One row per setting: the single source for parsing, validation and the README table. */
export const SETTINGS = {
  nodeName: { flag: "node-name", env: "NODE_NAME", default: "", help: "This node's Kubernetes name (downward API spec.nodeName)" },
  device: { flag: "device", env: "NODE_ROUTER_DEVICE", default: "cilium_wg0", help: "WireGuard device that steered traffic must leave through" },
  steeringTable: { flag: "table", env: "NODE_ROUTER_TABLE", default: "51871", help: "Routing table for remote pod CIDRs and worker addresses" },
  controlPlaneTable: {
    flag: "control-plane-table",
    env: "NODE_ROUTER_CONTROL_PLANE_TABLE",
    default: "51872",
    help: "Routing table for control-plane node addresses",
  },
  rulePriority: {
    flag: "rule-priority",
    env: "NODE_ROUTER_RULE_PRIORITY",
    default: "1000",
    help: "First ip rule priority; the agent owns this and the next 99",
  },
  wgMark: { flag: "wg-mark", env: "NODE_ROUTER_WG_MARK", default: "0xe00", help: "Firewall mark of WireGuard's own encrypted packets" },
  wgMask: { flag: "wg-mask", env: "NODE_ROUTER_WG_MASK", default: "0xf00", help: "Mask applied before comparing the mark" },
  exemptPorts: {
    flag: "exempt-ports",
    env: "NODE_ROUTER_EXEMPT_PORTS",
    default: "6443,2379-2380",
    help: "TCP ports of control-plane nodes reachable in the clear (bootstrap)",
  },
  controlPlaneSelector: {
    flag: "control-plane-selector",
    env: "NODE_ROUTER_CONTROL_PLANE_SELECTOR",
    default: "node-role.kubernetes.io/control-plane",
    help: "Label selector for control-plane nodes: key, key=value, key!=value, !key, comma-joined",
  },
  resyncSeconds: {
    flag: "resync-seconds",
    env: "NODE_ROUTER_RESYNC_SECONDS",
    default: "30",
    help: "Period of the full re-read of kernel state that repairs drift",
  },
  healthAddress: {
    flag: "health-address",
    env: "NODE_ROUTER_HEALTH_ADDRESS",
    default: "127.0.0.1:9871",
    help: "host:port serving /healthz and /readyz (loopback: the kubelet probes it from the host network, pods cannot)",
  },
  metricsAddress: {
    flag: "metrics-address",
    env: "NODE_ROUTER_METRICS_ADDRESS",
    default: "127.0.0.1:9872",
    help: "host:port serving /metrics (may equal the health address); loopback by default, 0.0.0.0:9872 for Prometheus",
  },
  routeProtocol: {
    flag: "route-protocol",
    env: "NODE_ROUTER_ROUTE_PROTOCOL",
    default: "211",
    help: "Protocol number marking the rules and routes the agent owns",
  },
  nodeTable: {
    flag: "node-table",
    env: "NODE_ROUTER_NODE_TABLE",
    default: "",
    help: "Node table file (JSON): identity of every node and the cluster's pod CIDRs; empty = no table (identity from the API, no guard)",
  },
  stateDir: {
    flag: "state-dir",
    env: "NODE_ROUTER_STATE_DIR",
    default: "/var/lib/wg-mesh",
    help: "Host directory where the last good node table, its guard ruleset (loaded at boot) and this node's pod CIDRs are persisted; empty = none",
  },
  bootNodeTable: {
    flag: "boot-node-table",
    env: "NODE_ROUTER_BOOT_NODE_TABLE",
    default: "",
    help: "A node table file the host keeps: used at start when neither --node-table nor the persisted copy is valid; empty = none (then the guard the boot unit loaded stays until a good table is read)",
  },
  leaveGraceSeconds: {
    flag: "leave-grace-seconds",
    env: "NODE_ROUTER_LEAVE_GRACE_SECONDS",
    default: "300",
    help: "How long a node that left (the table or the API) stays steered and guarded",
  },
  // The guard's exemptions (guard.ts): what only WireGuard, exempt TCP and the node's own services may send in the clear.
  wgPort: {
    flag: "wg-port",
    env: "NODE_ROUTER_WG_PORT",
    default: "51871",
    help: "UDP port WireGuard sends from and to: the WireGuard mark is honoured only on UDP from and to it",
  },
  exemptReplyMark: {
    flag: "exempt-reply-mark",
    env: "NODE_ROUTER_EXEMPT_REPLY_MARK",
    default: "0x4000000",
    help: "Mark bit only the guard sets, on replies of TCP connections peers opened to an exempt port (control planes); must not overlap --wg-mask",
  },
  metadataAddresses: {
    flag: "metadata-addresses",
    env: "NODE_ROUTER_METADATA_ADDRESSES",
    default: "169.254.169.254,fd00:ec2::254",
    help: "Instance metadata addresses: TCP to them (but port 53) only from --metadata-cgroups; empty = no metadata rule",
  },
  metadataCgroups: {
    flag: "metadata-cgroups",
    env: "NODE_ROUTER_METADATA_CGROUPS",
    default: "system.slice",
    help: "Level-1 cgroup v2 names whose sockets may open TCP to the metadata addresses (kubelet, boot scripts); each must exist when the guard loads",
  },
  underlayDevices: {
    flag: "underlay-devices",
    env: "NODE_ROUTER_UNDERLAY_DEVICES",
    default: "",
    help: "Devices the guard's raw-frame chain watches; empty = detect (default-route devices, devices holding this node's addresses, physical devices)",
  },
  localInterfaces: {
    flag: "local-interfaces",
    env: "NODE_ROUTER_LOCAL_INTERFACES",
    default: "lo,cilium_host,cilium_net,lxc*",
    help: "Interfaces that deliver inside this node (loopback, local pods), which the guard lets cluster traffic use; name* = prefix",
  },
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG", default: "", help: "Kubeconfig file for running outside the cluster (in-cluster config when empty)" },
  logLevel: { flag: "log-level", env: "NODE_ROUTER_LOG_LEVEL", default: "info", help: "pino log level: debug, info, warn, error" },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Rule priorities the agent owns: [rulePriority, rulePriority + OWNED_PRIORITY_SPAN). */
export const OWNED_PRIORITY_SPAN = 100;
/** Cilium moves the local-table rule to priority 100; the main-table rule sits at 32766. */
const MIN_PRIORITY = 101;
const MAX_PRIORITY = 32765;
/** The exempt-port rules occupy fixed slots; see desired.ts. */
export const MAX_EXEMPT_RANGES = 20;

export interface Settings {
  nodeName: string;
  device: string;
  steeringTable: number;
  controlPlaneTable: number;
  rulePriority: number;
  wgMark: number;
  wgMask: number;
  exemptPorts: PortRange[];
  controlPlaneSelector: LabelSelector;
  resyncSeconds: number;
  healthAddress: HostPort;
  metricsAddress: HostPort;
  routeProtocol: number;
  nodeTable?: string;
  stateDir?: string;
  bootNodeTable?: string;
  leaveGraceSeconds: number;
  wgPort: number;
  exemptReplyMark: number;
  metadataAddresses: string[];
  metadataCgroups: string[];
  /** Empty: detect them (underlay.ts). */
  underlayDevices: string[];
  localInterfaces: string[];
  kubeconfig?: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

export interface HostPort {
  host: string;
  port: number;
}

// Checked by hand rather than with a schema library: the settings are ~20 flat strings read once,
// and zod (the library used before) kept ~5 MB of the agent's RSS for that on every node.
/** A value that cannot be used, and why (the caller prefixes the setting's name and value). */
class Invalid {
  constructor(readonly message: string) {}
}
type Check<T> = (text: string) => T | Invalid;

const integer =
  (min: number, max: number, more?: (n: number) => string | undefined): Check<number> =>
  (text) => {
    const t = text.trim();
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return new Invalid("must be a decimal or 0x-hex integer");
    const n = Number(t);
    if (n < min || n > max) return new Invalid(`must be between ${min} and ${max}`);
    const why = more?.(n);
    return why === undefined ? n : new Invalid(why);
  };

const routingTable = integer(1, 0xfffffffe, (t) => (t >= 252 && t <= 255 ? "must not be a reserved table (252-255)" : undefined));

const portRanges: Check<PortRange[]> = (text) => {
  const ranges: PortRange[] = [];
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const start = m ? Number(m[1]) : NaN;
    const end = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || start < 1 || end > 65535 || start > end) return new Invalid(`"${part}" is not a port or an ascending range like 2379-2380`);
    ranges.push({ start, end });
  }
  if (ranges.length > MAX_EXEMPT_RANGES) return new Invalid(`at most ${MAX_EXEMPT_RANGES} port ranges`);
  return ranges;
};

const hostPort: Check<HostPort> = (text) => {
  const m = /^(.*):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) return new Invalid(`"${text}" is not host:port, e.g. 0.0.0.0:9871 or :9871`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1") || "0.0.0.0", port };
};

const selector: Check<LabelSelector> = (text) => {
  try {
    return parseSelector(text);
  } catch (e) {
    return new Invalid((e as Error).message);
  }
};

const interfaceNames: Check<string[]> = (text) => {
  const names = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = names.find((n) => !/^[A-Za-z0-9_.:-]{1,15}\*?$/.test(n));
  return bad === undefined ? names : new Invalid(`"${bad}" is not an interface name (1-15 characters, optionally ending in * for a prefix)`);
};

const absolutePathOrNone: Check<string | undefined> = (text) => {
  const t = text.trim();
  if (t === "") return undefined;
  return t.startsWith("/") ? t : new Invalid("must be an absolute path (or empty for none)");
};

const hostAddresses: Check<string[]> = (text) => {
  const list = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = list.find((a) => isIP(a) === 0);
  return bad === undefined ? list : new Invalid(`"${bad}" is not an IPv4 or IPv6 address`);
};

const cgroupNames: Check<string[]> = (text) => {
  const names = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = names.find((n) => !/^[A-Za-z0-9_.@:-]{1,255}$/.test(n) || n === "." || n === "..");
  return bad === undefined ? names : new Invalid(`"${bad}" is not a level-1 cgroup name (no "/", e.g. system.slice)`);
};

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One check per setting, turning the text of a flag or environment variable into its value. */
const CHECKS: { [K in SettingName]-?: Check<Settings[K]> } = {
  nodeName: (t) => t.trim(),
  device: (t) => (/^[A-Za-z0-9_.:-]{1,15}$/.test(t) ? t : new Invalid("must be a Linux interface name (1-15 characters)")),
  steeringTable: routingTable,
  controlPlaneTable: routingTable,
  rulePriority: integer(MIN_PRIORITY, MAX_PRIORITY - OWNED_PRIORITY_SPAN + 1),
  wgMark: integer(1, 0xffffffff),
  wgMask: integer(1, 0xffffffff),
  exemptPorts: portRanges,
  controlPlaneSelector: selector,
  resyncSeconds: integer(1, 86400),
  healthAddress: hostPort,
  metricsAddress: hostPort,
  // 0-4 are the kernel's own; 5-255 is free, see README for why 211.
  routeProtocol: integer(5, 255),
  nodeTable: (t) => t.trim() || undefined,
  stateDir: absolutePathOrNone,
  bootNodeTable: absolutePathOrNone,
  leaveGraceSeconds: integer(0, 86400),
  wgPort: integer(1, 65535),
  exemptReplyMark: integer(1, 0xffffffff),
  metadataAddresses: hostAddresses,
  metadataCgroups: cgroupNames,
  underlayDevices: (t) => {
    const names = interfaceNames(t);
    return names instanceof Invalid || !names.some((n) => n.endsWith("*")) ? names : new Invalid("takes exact device names (no * prefixes)");
  },
  localInterfaces: interfaceNames,
  kubeconfig: (t) => t || undefined,
  logLevel: (t) => ((LOG_LEVELS as readonly string[]).includes(t) ? (t as Settings["logLevel"]) : new Invalid(`must be one of ${LOG_LEVELS.join(", ")}`)),
};

export class SettingsError extends Error {}

/** Every setting's default, as the agent reads it. */
export const defaultValues = (): Record<SettingName, string> =>
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.default])) as Record<SettingName, string>;

/**
 * Checks one value per setting, as the agent reads them (the text of a flag or an environment
 * variable): the settings, or every problem, each naming the setting as `name` (and, where the
 * value is quoted, as `valueName`) calls it. The deploying program checks the values it will set
 * with this same function, under its own names for them.
 */
export function checkSettings(
  raw: Record<SettingName, string>,
  name: (s: SettingName) => string,
  valueName: (s: SettingName) => string = name,
): { settings: Settings; problems?: never } | { settings?: never; problems: string[] } {
  const values: Partial<Record<SettingName, unknown>> = {};
  const problems: string[] = [];
  for (const key of Object.keys(CHECKS) as SettingName[]) {
    const value = CHECKS[key](raw[key]);
    if (value instanceof Invalid) problems.push(`${valueName(key)} = "${raw[key]}": ${value.message}`);
    else values[key] = value;
  }
  if (problems.length > 0) return { problems };
  const settings = values as Settings;
  if (settings.steeringTable === settings.controlPlaneTable) {
    return { problems: [`${name("steeringTable")} and ${name("controlPlaneTable")} must differ (both ${settings.steeringTable})`] };
  }
  if ((settings.wgMark & settings.wgMask) >>> 0 !== settings.wgMark) {
    return {
      problems: [`${name("wgMark")} ${hex(settings.wgMark)} has bits outside ${name("wgMask")} ${hex(settings.wgMask)}: widen the mask or fix the mark`],
    };
  }
  if ((settings.exemptReplyMark & settings.wgMask) >>> 0 !== 0) {
    return {
      problems: [
        `${name("exemptReplyMark")} ${hex(settings.exemptReplyMark)} overlaps ${name("wgMask")} ${hex(settings.wgMask)}: pick a bit outside the mask (the default 0x4000000)`,
      ],
    };
  }
  if ((settings.exemptReplyMark & (settings.exemptReplyMark - 1)) !== 0) {
    return {
      problems: [`${name("exemptReplyMark")} ${hex(settings.exemptReplyMark)} must be a single bit (e.g. 0x4000000): the routing rule matches it as mark/mask`],
    };
  }
  return { settings };
}

/** Parses flags (argv without node and script) and environment into validated Settings. */
export function parseSettings(argv: string[], env: Record<string, string | undefined>): Settings {
  const options = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new SettingsError(
      `${(e as Error).message}. Known flags: ${Object.values(SETTINGS)
        .map((s) => "--" + s.flag)
        .join(" ")}`,
    );
  }
  const raw = defaultValues();
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const flagValue = values[s.flag];
    raw[name] = typeof flagValue === "string" ? flagValue : (env[s.env] ?? s.default);
  }
  const checked = checkSettings(
    raw,
    (s) => `--${SETTINGS[s].flag}`,
    (s) => `--${SETTINGS[s].flag} / ${SETTINGS[s].env}`,
  );
  if (checked.problems) throw new SettingsError(checked.problems.length === 1 ? checked.problems[0] : `invalid settings:\n  ${checked.problems.join("\n  ")}`);
  return checked.settings;
}

/** The run command cannot work without knowing which node it is on. */
export function requireNodeName(settings: Settings): string {
  if (!settings.nodeName) {
    throw new SettingsError(`--node-name / NODE_NAME is empty: set it from the downward API (fieldRef spec.nodeName)`);
  }
  return settings.nodeName;
}

const hex = (n: number) => "0x" + n.toString(16);
