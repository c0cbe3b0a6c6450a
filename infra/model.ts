// The one model from stack config to resources: the validated config turned, once, into what
// each component takes as it is: the Cluster's nodes (expanded from the pools) and placements,
// Cilium's inputs, and the node-router agent (image and settings, by the agent's own names),
// which the Cluster's boot-time guard and the NodeRouter's DaemonSet both take. Pure, so
// validation builds it before any resource is registered.
import type { StackConfig } from "./configSchema";
import type { ClusterArgs } from "../components/cluster/args";
import { CLOUDS, expandPools, type Cloud, type NodeSpec } from "../components/core/nodes";
import { API_PROXY_HOST, API_PROXY_PORT } from "../components/cluster/apiEndpoint";
import { zoneSubnets } from "../components/aws/subnets";
import { AWS_PATH_MTU } from "../components/aws/network";
import { GCP_NETWORK_MTU } from "../components/gcp/network";
import type { CiliumArgs } from "../components/cilium/cilium";
import type { NodeRouterArgs } from "../components/nodeRouter/nodeRouter";
import type { NodeRouterAlertsArgs } from "../components/monitoring/prometheusRule";
import type { AgentSettings } from "../components/nodeRouter/settings";
import type { VersionGuardArgs } from "../components/cluster/versionGuard";
import type { PreflightCheck } from "./preflight/schema";

export interface StackModel {
  /** The cluster's name: the Cluster component's, and the prefix of every resource. */
  readonly name: string;
  /** What the version guard holds a running cluster to. */
  /** The VersionGuard's args but the run's rebuilds, which need the stack's last record (program.ts). */
  readonly versions: Omit<VersionGuardArgs, "rebuilding">;
  /** Each configured cloud's provider settings. */
  readonly providers: { readonly aws?: { readonly region: string }; readonly gcp?: { readonly project: string; readonly region: string } };
  readonly cluster: ClusterArgs;
  readonly cilium: CiliumArgs;
  readonly nodeRouter: NodeRouterArgs;
  /** The agent's alerts as a PrometheusRule, when the stack wants them (stack config `alerts`). */
  readonly alerts?: NodeRouterAlertsArgs;
  /** The preflight checks this stack skips (stack config `preflight.skip`). */
  readonly preflight: { readonly skip: readonly PreflightCheck[] };
  /** How long the run waits for every node to be Ready with its agents (cluster.nodesReadyTimeoutMinutes). */
  readonly nodesReadyTimeoutMinutes: number;
  /** How a version change rolls through the running nodes (cluster.upgrade). */
  readonly upgrade: { readonly maxUnavailable: number; readonly drainTimeoutMinutes: number; readonly nodeTimeoutMinutes: number };
}

/** Path MTU of each cloud's underlay as the WireGuard packets see it; Cilium subtracts WireGuard's overhead from the smallest. */
export const UNDERLAY_MTU: Readonly<Record<Cloud, number>> = { aws: AWS_PATH_MTU, gcp: GCP_NETWORK_MTU };

/** Every node of the stack, in the cluster's stable order: AWS before GCP, pools in order. */
export function stackNodes(config: StackConfig): NodeSpec[] {
  return CLOUDS.flatMap((cloud) => expandPools(config.cluster.name, cloud, config[cloud]?.pools ?? []));
}

/** The node-router's settings as the stack sets them, under the agent's own names. */
function agentSettings(n: StackConfig["nodeRouter"]): AgentSettings {
  const text = (v: string | number | undefined) => (v === undefined ? undefined : String(v));
  return {
    device: n.device,
    steeringTable: n.steeringTable,
    controlPlaneTable: n.controlPlaneTable,
    rulePriority: n.rulePriority,
    wgMark: text(n.wgMark),
    wgMask: text(n.wgMask),
    exemptPorts: n.exemptPorts?.map(String),
    controlPlaneSelector: n.controlPlaneSelector,
    resyncSeconds: n.resyncSeconds,
    healthPort: n.healthPort,
    metricsAddress: n.metricsAddress,
    logLevel: n.logLevel,
    exemptReplyMark: text(n.exemptReplyMark),
    metadataAddresses: n.metadataAddresses,
    metadataCgroups: n.metadataCgroups,
    underlayDevices: n.underlayDevices,
  };
}

/** The model of a validated stack config; `nodes` as stackNodes(config) returns them. */
export function stackModel(config: StackConfig, nodes: NodeSpec[]): StackModel {
  const { cluster, aws, gcp } = config;
  const clouds = CLOUDS.filter((c) => config[c] !== undefined);
  const nodeRouter: NodeRouterArgs = {
    image: config.nodeRouter.image,
    allowExtraExemptPorts: config.nodeRouter.allowExtraExemptPorts,
    settings: agentSettings(config.nodeRouter),
    imagePullSecrets: config.nodeRouter.imagePullSecrets,
  };
  return {
    name: cluster.name,
    versions: {
      kubernetesVersion: cluster.kubernetesVersion,
      containerdVersion: cluster.containerdVersion,
      nodes: nodes.map((n) => n.name),
    },
    upgrade: cluster.upgrade,
    providers: { aws: aws && { region: aws.region }, gcp: gcp && { project: gcp.project, region: gcp.region } },
    cluster: {
      kubernetesVersion: cluster.kubernetesVersion,
      containerdVersion: cluster.containerdVersion,
      podCidr: cluster.podCidr,
      serviceCidr: cluster.serviceCidr,
      adminCidrs: cluster.adminCidrs,
      wireguardFrom: cluster.wireguardFrom,
      apiEndpoint: cluster.apiEndpoint,
      joinTokenTtlHours: cluster.joinTokenTtlHours,
      adminCertValidityHours: cluster.adminCertValidityHours,
      nodes,
      replaceNodes: cluster.replaceNodes,
      drainTimeoutMinutes: cluster.upgrade.drainTimeoutMinutes,
      nodeTimeoutMinutes: cluster.upgrade.nodeTimeoutMinutes,
      aws: aws && {
        region: aws.region,
        ami: aws.ami,
        vpcCidr: aws.vpcCidr,
        vpcId: aws.vpcId,
        subnets: Object.fromEntries(
          zoneSubnets(
            aws.vpcCidr,
            aws.pools.map((p) => p.zone),
            aws.subnetCidrs,
          ).map((s) => [s.zone, s.cidr]),
        ),
      },
      gcp: gcp && { project: gcp.project, region: gcp.region, subnetCidr: gcp.subnetCidr, image: gcp.image },
      // The same agent, image and settings, that the NodeRouter deploys: the boot-time guard shares them.
      nodeRouter,
    },
    cilium: {
      chartVersion: config.cilium.version,
      podCidrV4: cluster.podCidr,
      nativeRoutingCidrV4: config.cilium.nativeRoutingCidr,
      ipamMode: config.cilium.ipam,
      // Every node's local proxy to all control planes (components/cluster/apiEndpoint.ts):
      // the agents keep their API connection when any one control plane is lost.
      k8sServiceHost: API_PROXY_HOST,
      k8sServicePort: API_PROXY_PORT,
      underlayMtus: Object.fromEntries(clouds.map((c) => [c, UNDERLAY_MTU[c]])),
      // Every node reaches the others through its cloud's 1:1 NAT of its public address.
      behindNat: true,
      multiCloud: clouds.length > 1,
      hubble: { enabled: true, relay: true, ui: config.cilium.hubbleUi },
    },
    nodeRouter,
    alerts: config.alerts.prometheusRule ? { namespace: config.alerts.namespace, labels: config.alerts.labels } : undefined,
    preflight: { skip: config.preflight.skip },
    nodesReadyTimeoutMinutes: cluster.nodesReadyTimeoutMinutes,
  };
}
