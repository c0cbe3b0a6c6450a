// The node-router agent's settings as the stack sets them, with safe defaults and the
// checks that belong at deploy time (a bad value should fail `pulumi preview`, not crash-loop
// a DaemonSet on every node). Field names follow the stack config key `nodeRouter.*`.

/**
 * The agent image is required and pinned by digest: a tag can move under a running
 * DaemonSet, and there is no registry this project could default to on the user's behalf.
 */
export const IMAGE_PATTERN =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$/;

/** How to get a value for nodeRouter.image; every message about the image ends with it. */
export const IMAGE_HELP =
  "build and push the agent from agent/Dockerfile to your own registry: run the agent-image workflow " +
  "(.github/workflows/agent-image.yml) in your fork, which pushes ghcr.io/<owner>/node-router for linux/amd64 and " +
  "linux/arm64 and prints the digest; or `docker buildx build --platform linux/amd64,linux/arm64 -f agent/Dockerfile " +
  "-t <registry>/<repo>:<tag> --push .` from the repository root. Then: pulumi config set --path " +
  "'wg-mesh-cluster:nodeRouter.image' <registry>/<repo>@sha256:<digest>";

/** The only ports the bootstrap needs in the clear: API server and etcd client/peer. */
export const BOOTSTRAP_PORTS: readonly PortRange[] = [
  { start: 6443, end: 6443 },
  { start: 2379, end: 2380 },
];

export interface PortRange {
  readonly start: number;
  readonly end: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Stack config `nodeRouter.*`: every field optional. */
export interface NodeRouterSettingsInput {
  /** Agent image pinned by digest, `<repo>@sha256:<64 hex>`; required (see IMAGE_HELP). */
  readonly image?: string;
  /** TCP ports towards control-plane nodes left outside WireGuard; default [6443, "2379-2380"]. */
  readonly exemptPorts?: readonly (number | string)[];
  /** Accept exempt ports beyond 6443 and 2379-2380 (weakens the no-cleartext guarantee); default false. */
  readonly allowExtraExemptPorts?: boolean;
  /** WireGuard device the agent steers into; default cilium_wg0 (Cilium's device). */
  readonly device?: string;
  /** Steering routing table id; default 51871. Must differ from controlPlaneTable. */
  readonly table?: number;
  /** Routing table id for control-plane addresses; default 51872. */
  readonly controlPlaneTable?: number;
  /** First ip rule priority of the agent's 100-rule range; default 1000 (after Cilium's 100). */
  readonly priority?: number;
  /** Firewall mark of WireGuard's own packets; default 0xe00 (Cilium >= 1.18; 0x1e00 before). */
  readonly mark?: number | string;
  /** Mask for the mark; default 0xf00 (matches both Cilium marks). */
  readonly mask?: number | string;
  /** Label selector of control-plane nodes; default node-role.kubernetes.io/control-plane. */
  readonly controlPlaneSelector?: string;
  /** Full resync period in seconds; default 30. */
  readonly resyncSeconds?: number;
  /** Port of /healthz and /readyz, on the node's loopback only (the kubelet probes 127.0.0.1); default 9871. */
  readonly healthPort?: number;
  /** host:port of /metrics; default 127.0.0.1:9872. "0.0.0.0:9872" lets Prometheus scrape every node. */
  readonly metricsAddress?: string;
  /** Agent log level; default info. */
  readonly logLevel?: LogLevel;
}

export interface NodeRouterSettings {
  readonly image: string;
  readonly exemptPorts: readonly PortRange[];
  readonly device: string;
  readonly table: number;
  readonly controlPlaneTable: number;
  readonly priority: number;
  readonly mark: number;
  readonly mask: number;
  readonly controlPlaneSelector: string;
  readonly resyncSeconds: number;
  readonly healthPort: number;
  readonly metricsAddress: HostPort;
  readonly logLevel: LogLevel;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Health is served here only: loopback, where the kubelet's probes (host network) reach it and no pod does. */
export const HEALTH_HOST = "127.0.0.1";

/** Whether /metrics listens only on the node's loopback (no scraper outside the host can reach it). */
export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || /^127\./.test(host);

export const DEFAULTS: Omit<NodeRouterSettings, "exemptPorts" | "image"> & { exemptPorts: readonly (number | string)[] } = {
  exemptPorts: [6443, "2379-2380"],
  device: "cilium_wg0",
  table: 51871,
  controlPlaneTable: 51872,
  priority: 1000,
  mark: 0xe00,
  mask: 0xf00,
  controlPlaneSelector: "node-role.kubernetes.io/control-plane",
  resyncSeconds: 30,
  healthPort: 9871,
  metricsAddress: { host: "127.0.0.1", port: 9872 },
  logLevel: "info",
};

const fail = (field: string, message: string): never => {
  throw new Error(`nodeRouter.${field}: ${message}`);
};

/** Parses 6443, "6443" or "2379-2380" into an inclusive range. */
export function parsePortRange(entry: number | string, field = "exemptPorts"): PortRange {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(String(entry).trim());
  const start = match ? Number(match[1]) : NaN;
  const end = match ? Number(match[2] ?? match[1]) : NaN;
  if (!match || start < 1 || end > 65535 || start > end) fail(field, `"${entry}" is not a TCP port or an ascending range like "2379-2380"`);
  return { start, end };
}

const insideBootstrap = (range: PortRange) => BOOTSTRAP_PORTS.some((allowed) => allowed.start <= range.start && range.end <= allowed.end);

function integerIn(field: string, value: number | string, min: number, max: number): number {
  const n = typeof value === "number" ? value : /^(0x[0-9a-f]+|\d+)$/i.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(field, `${value} must be an integer in ${min}..${max}`);
  return n;
}

/** "host:port" (IPv4, IPv6 in brackets, or a name) of the metrics server. */
export function parseHostPort(text: string, field: string): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) return fail(field, `"${text}" is not host:port, e.g. 127.0.0.1:9872 (loopback) or 0.0.0.0:9872 (for Prometheus)`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/** The image reference, or an error naming nodeRouter.image and how to build and pin one. */
export function resolveImage(image: string | undefined): string {
  if (image === undefined || image.trim() === "") return fail("image", `required: the node-router agent image, pinned by digest; ${IMAGE_HELP}`);
  const value = image.trim();
  if (IMAGE_PATTERN.test(value)) return value;
  const why = /@sha256:/.test(value) ? "is not a valid image reference with a sha256 digest of 64 lower-case hex digits" : "is not pinned by digest (a tag can change under a running DaemonSet)";
  return fail("image", `"${value}" ${why}; use <registry>/<repo>@sha256:<digest>; ${IMAGE_HELP}`);
}

/** Applies defaults and validates; throws an error naming `nodeRouter.<field>` and the fix. */
export function resolveNodeRouterSettings(input: NodeRouterSettingsInput = {}): NodeRouterSettings {
  const exemptPorts = (input.exemptPorts ?? DEFAULTS.exemptPorts).map((entry) => parsePortRange(entry));
  const extra = exemptPorts.filter((range) => !insideBootstrap(range));
  if (extra.length > 0 && input.allowExtraExemptPorts !== true) {
    fail(
      "exemptPorts",
      `${extra.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(", ")} ` +
        "outside the bootstrap ports 6443 and 2379-2380 would leave that traffic unencrypted; remove them, " +
        "or set nodeRouter.allowExtraExemptPorts: true to accept that",
    );
  }
  const image = resolveImage(input.image);
  const device = input.device ?? DEFAULTS.device;
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(device)) fail("device", `"${device}" is not a Linux interface name (1-15 characters)`);
  const table = integerIn("table", input.table ?? DEFAULTS.table, 1, 0xfffffffe);
  const controlPlaneTable = integerIn("controlPlaneTable", input.controlPlaneTable ?? DEFAULTS.controlPlaneTable, 1, 0xfffffffe);
  for (const [field, id] of [["table", table], ["controlPlaneTable", controlPlaneTable]] as const) {
    if (id >= 252 && id <= 255) fail(field, `${id} is a kernel-reserved table (252-255)`);
  }
  if (table === controlPlaneTable) fail("controlPlaneTable", `must differ from nodeRouter.table (both ${table})`);
  // Cilium owns rule priorities up to 100 and the main table sits at 32766; the agent owns 100.
  const priority = integerIn("priority", input.priority ?? DEFAULTS.priority, 101, 32666);
  const mark = integerIn("mark", input.mark ?? DEFAULTS.mark, 1, 0xffffffff);
  const mask = integerIn("mask", input.mask ?? DEFAULTS.mask, 1, 0xffffffff);
  if ((mark & mask) >>> 0 !== mark) fail("mark", `0x${mark.toString(16)} has bits outside nodeRouter.mask 0x${mask.toString(16)}`);
  const healthPort = integerIn("healthPort", input.healthPort ?? DEFAULTS.healthPort, 1, 65535);
  const metricsAddress = input.metricsAddress === undefined ? DEFAULTS.metricsAddress : parseHostPort(input.metricsAddress, "metricsAddress");
  // One port cannot be bound on loopback (health) and on every address (metrics) at once.
  if (metricsAddress.port === healthPort && !(isLoopback(metricsAddress.host) && metricsAddress.host === HEALTH_HOST)) {
    fail("metricsAddress", `port ${healthPort} is the health port (served on ${HEALTH_HOST}); choose another port for metrics, e.g. ${metricsAddress.host}:${healthPort + 1}`);
  }
  const controlPlaneSelector = (input.controlPlaneSelector ?? DEFAULTS.controlPlaneSelector).trim();
  if (controlPlaneSelector === "") fail("controlPlaneSelector", "empty; the agent could not tell control-plane nodes apart");
  return {
    image,
    exemptPorts,
    device,
    table,
    controlPlaneTable,
    priority,
    mark,
    mask,
    controlPlaneSelector,
    resyncSeconds: integerIn("resyncSeconds", input.resyncSeconds ?? DEFAULTS.resyncSeconds, 1, 86400),
    healthPort,
    metricsAddress,
    logLevel: (["debug", "info", "warn", "error"] as const).includes(input.logLevel ?? "info")
      ? (input.logLevel ?? "info")
      : fail("logLevel", `"${input.logLevel}" must be debug, info, warn or error`),
  };
}
