// Settings -> the agent container's environment. The variable names come from the agent's
// own settings table (agent/src/settings.ts), so a renamed flag/env in the agent breaks the
// type check here instead of silently falling back to the agent's defaults in production.
import { SETTINGS, type SettingName } from "../../agent/src/settings";
import { HEALTH_HOST, type HostPort, type NodeRouterSettings, type PortRange } from "./settings";

/** Kubernetes EnvVar (plain object, as in core/v1). */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef: { readonly fieldPath: string } };
}

const hostPort = (a: HostPort) => (a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
const hex = (n: number) => `0x${n.toString(16)}`;
const ports = (ranges: readonly PortRange[]) => ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(",");

/** The agent settings we set, keyed by the agent's setting names (kubeconfig: in-cluster).
 * nodeTable is set by the DaemonSet when it mounts the table (agentEnv); leaveGraceSeconds and
 * localInterfaces (issue 9) keep the agent's defaults, the same in the boot-time guard. */
type Configured = Exclude<SettingName, "nodeName" | "kubeconfig" | "routeProtocol" | "nodeTable" | "leaveGraceSeconds" | "localInterfaces">;

export function agentSettingValues(settings: NodeRouterSettings): Record<Configured, string> {
  return {
    device: settings.device,
    steeringTable: String(settings.table),
    controlPlaneTable: String(settings.controlPlaneTable),
    rulePriority: String(settings.priority),
    wgMark: hex(settings.mark),
    wgMask: hex(settings.mask),
    exemptPorts: ports(settings.exemptPorts),
    controlPlaneSelector: settings.controlPlaneSelector,
    resyncSeconds: String(settings.resyncSeconds),
    // Loopback: the kubelet probes 127.0.0.1 from the host network (probe `host`), no pod can.
    healthAddress: `${HEALTH_HOST}:${settings.healthPort}`,
    // Loopback unless the stack chooses an address Prometheus can scrape.
    metricsAddress: hostPort(settings.metricsAddress),
    logLevel: settings.logLevel,
  };
}

/** The agent's node-table setting (agent/src/settings.ts, issue 9). */
export const NODE_TABLE_ENV = SETTINGS.nodeTable.env;

/** NODE_NAME from the downward API, then every configured setting as its agent env var, and the node table file. */
export function agentEnv(settings: NodeRouterSettings, nodeTableFile?: string): EnvVar[] {
  const values = agentSettingValues(settings);
  return [
    { name: SETTINGS.nodeName.env, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ...(Object.keys(values) as Configured[]).map((key) => ({ name: SETTINGS[key].env, value: values[key] })),
    ...(nodeTableFile ? [{ name: NODE_TABLE_ENV, value: nodeTableFile }] : []),
  ];
}
