// The node-router agent's settings as a stack chooses them, by the agent's own names. The agent
// (agent/src/settings.ts) is the authority on those names, their flags and environment
// variables, their defaults and their formats: the DaemonSet's environment and the boot-time
// guard's flags are rendered from its table, and checked with its own parser before anything is
// deployed. What only the deployment decides is checked here: exempt ports within the bootstrap
// ports (../core/firewallIntents.ts, what the firewall opens), health on loopback, the image
// pinned by digest.
import { checkSettings, defaultValues, SETTINGS, type SettingName, type Settings } from "../../agent/src/settings";
import type { PortRange } from "../../agent/src/model";
import { BOOTSTRAP_PORTS, formatPorts } from "../core/firewallIntents";
import type { GuardSettings } from "../core/agentDeployment";

/** The node-router agent as both its DaemonSet and every node's boot-time guard run it. */
export interface NodeRouterAgent {
  /** Agent image pinned by digest, <registry>/<repo>@sha256:<64 hex> (built from agent/Dockerfile). */
  readonly image: string;
  /** The agent's settings, by the agent's own names; an unset one keeps the agent's default. */
  readonly settings?: AgentSettings;
  /** Accept exempt ports beyond the bootstrap ports 6443 and 2379-2380 (weakens the no-cleartext guarantee). */
  readonly allowExtraExemptPorts?: boolean;
}

/** The agent settings a stack may set; an unset one keeps the agent's default (agent/README.md). */
export interface AgentSettings {
  /** WireGuard device the agent steers into (Cilium's cilium_wg0). */
  readonly device?: string;
  /** Routing table of remote pod CIDRs and worker addresses. */
  readonly steeringTable?: number;
  /** Routing table of control-plane addresses; must differ from steeringTable. */
  readonly controlPlaneTable?: number;
  /** First ip rule priority of the agent's 100-rule range (after Cilium's 100). */
  readonly rulePriority?: number;
  /** Firewall mark of WireGuard's own packets, decimal or 0x-hex (0xe00 from Cilium 1.18, 0x1e00 before). */
  readonly wgMark?: string;
  /** Mask applied before comparing the mark; the mark must lie inside it. */
  readonly wgMask?: string;
  /** TCP ports towards control-plane nodes left outside WireGuard, each a port or a range such as 2379-2380. */
  readonly exemptPorts?: string[];
  /** Label selector of control-plane nodes: key, key=value, key!=value or !key, comma-joined. */
  readonly controlPlaneSelector?: string;
  /** Period in seconds of the full re-read of kernel state that repairs drift. */
  readonly resyncSeconds?: number;
  /** Port of /healthz and /readyz, served on the node's loopback only (the kubelet probes 127.0.0.1). */
  readonly healthPort?: number;
  /** host:port of /metrics: loopback unless Prometheus must scrape every node (0.0.0.0:9872). */
  readonly metricsAddress?: string;
  /** Agent log level: debug, info, warn or error. */
  readonly logLevel?: string;
  /** Mark bit only the guard sets, on control-plane replies from exempt ports (0x-hex or decimal); one bit outside wgMask. */
  readonly exemptReplyMark?: string;
  /** Instance metadata addresses the guard keeps pods and host-network pods from over TCP (all ports but 53). */
  readonly metadataAddresses?: string[];
  /** Level-1 cgroup v2 names whose sockets may open TCP to the metadata addresses (the node's services: system.slice). */
  readonly metadataCgroups?: string[];
  /** Underlay devices the guard's raw-frame chain watches; unset = detected on each node. */
  readonly underlayDevices?: string[];
}

/**
 * The settings the DaemonSet sets, in its environment's order: each as the stack chooses it under
 * the agent's own name, but healthAddress, which healthPort sets. The others (nodeTable, ...) are
 * set by the pod or keep the agent's defaults.
 */
const DEPLOYED = [
  "device",
  "steeringTable",
  "controlPlaneTable",
  "rulePriority",
  "wgMark",
  "wgMask",
  "exemptPorts",
  "controlPlaneSelector",
  "resyncSeconds",
  "healthAddress",
  "metricsAddress",
  "logLevel",
  "exemptReplyMark",
  "metadataAddresses",
  "metadataCgroups",
  "underlayDevices",
] as const satisfies readonly SettingName[];
export type DeployedSetting = (typeof DEPLOYED)[number];

/** Health is served here only: loopback, where the kubelet's probes (host network) reach it and no pod does. */
export const HEALTH_HOST = "127.0.0.1";

/** Whether /metrics listens only on the node's loopback (no scraper outside the host can reach it). */
export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || /^127\./.test(host);

const asAgentReadsIt = (value: string | number | readonly string[]): string => (Array.isArray(value) ? value.join(",") : String(value));

/** Every deployed setting's value as the agent reads it: the stack's, or the agent's default. */
export function agentSettingValues(s: AgentSettings = {}): Record<DeployedSetting, string> {
  const chosen = (k: DeployedSetting) => (k === "healthAddress" ? (s.healthPort === undefined ? undefined : `${HEALTH_HOST}:${s.healthPort}`) : s[k]);
  return Object.fromEntries(
    DEPLOYED.map((k) => {
      const value = chosen(k);
      return [k, value === undefined ? SETTINGS[k].default : asAgentReadsIt(value)];
    }),
  ) as Record<DeployedSetting, string>;
}

/** The agent as deployed: every deployed setting as the agent reads it, and as it parses them (its defaults for the rest). */
export interface DeployedAgent {
  readonly values: Record<DeployedSetting, string>;
  readonly settings: Settings;
}

/**
 * What the boot-time guard is given: every value the DaemonSet sets, so the boot ruleset and the
 * agent's are rendered from the same settings (a setting added to DEPLOYED reaches both; the boot
 * renderer parses them with the agent's own parser and uses what the guard reads).
 */
export function guardSettings(agent: DeployedAgent): GuardSettings {
  return { ...agent.values };
}

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

/** Why `image` cannot be the agent image, or undefined when it can. */
export function imageProblem(image: string): string | undefined {
  if (image.trim() === "") return `required: the node-router agent image, pinned by digest; ${IMAGE_HELP}`;
  if (IMAGE_PATTERN.test(image)) return undefined;
  const why = /@sha256:/.test(image)
    ? "is not a valid image reference with a sha256 digest of 64 lower-case hex digits"
    : "is not pinned by digest (a tag can change under a running DaemonSet)";
  return `"${image}" ${why}; use <registry>/<repo>@sha256:<digest>; ${IMAGE_HELP}`;
}

// A Secret's name is a DNS subdomain (RFC 1123): what the API server would refuse, refused at preview.
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Every problem with the image pull Secrets' names, each naming `key` (e.g. nodeRouter.imagePullSecrets) and the fix. */
export function imagePullSecretsProblems(names: readonly string[] | undefined, key = "nodeRouter.imagePullSecrets"): string[] {
  const problems: string[] = [];
  (names ?? []).forEach((name, i) => {
    if (name.length > 253 || !SECRET_NAME.test(name))
      problems.push(
        `${key}[${i}]: "${name}" is not a Secret name (lower-case letters, digits, '-' and '.', at most 253, starting and ending alphanumeric); give the name of a kubernetes.io/dockerconfigjson Secret in the agent's namespace`,
      );
  });
  const dup = (names ?? []).find((n, i, all) => all.indexOf(n) !== i);
  if (dup !== undefined) problems.push(`${key}: "${dup}" is listed twice; list each Secret once`);
  return problems;
}

const insideBootstrap = (range: PortRange) => BOOTSTRAP_PORTS.some((allowed) => allowed.start <= range.start && range.end <= allowed.end);

/**
 * The node-router agent checked and deployed once: every problem with its image and settings,
 * each naming `<prefix><setting>` (the stack config key, e.g. nodeRouter.exemptPorts) and the
 * fix; and, when there is none, the agent as deployed, which the DaemonSet and the boot-time
 * guard take as it is.
 */
export function deployAgent(args: NodeRouterAgent, prefix = "nodeRouter."): { problems: string[]; agent?: DeployedAgent } {
  const key = (k: string) => `${prefix}${k}`;
  const stackKey = (k: SettingName) => key(k === "healthAddress" ? "healthPort" : k);
  const problems: string[] = [];
  const image = imageProblem(args.image);
  if (image) problems.push(`${key("image")}: ${image}`);
  const values = agentSettingValues(args.settings);
  const checked = checkSettings({ ...defaultValues(), ...values }, stackKey);
  if (checked.problems) return { problems: [...problems, ...checked.problems] };
  const { exemptPorts, healthAddress, metricsAddress } = checked.settings;
  const extra = exemptPorts.filter((range) => !insideBootstrap(range));
  if (extra.length > 0 && args.allowExtraExemptPorts !== true) {
    problems.push(
      `${key("exemptPorts")}: ${formatPorts(extra)} outside the bootstrap ports ${formatPorts(BOOTSTRAP_PORTS)} would leave that traffic unencrypted; remove them, or set ${key("allowExtraExemptPorts")}: true to accept that`,
    );
  }
  // One port cannot be bound on loopback (health) and on every address (metrics) at once.
  if (metricsAddress.port === healthAddress.port && metricsAddress.host !== HEALTH_HOST) {
    problems.push(
      `${key("metricsAddress")}: port ${healthAddress.port} is the health port (served on ${HEALTH_HOST}); choose another port for metrics, e.g. ${metricsAddress.host}:${healthAddress.port + 1}`,
    );
  }
  return problems.length > 0 ? { problems } : { problems, agent: { values, settings: checked.settings } };
}

/** Every problem with the node-router agent (deployAgent's), empty when it can be deployed. */
export const nodeRouterProblems = (args: NodeRouterAgent, prefix = "nodeRouter."): string[] => deployAgent(args, prefix).problems;

/** The agent as deployed; throws naming every problem when it cannot be (callers without the program's validation). */
export function deployedAgentOrThrow(owner: string, args: NodeRouterAgent): DeployedAgent {
  const { problems, agent } = deployAgent(args);
  if (!agent) throw new Error(`${owner}: ${problems.join("; ")}`);
  return agent;
}
