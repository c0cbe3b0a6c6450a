// Pure builder of the Cilium Helm values: the inputs are checked and resolved first (chart pin,
// CIDRs, MTU, keepalive; a problem names the cilium.* key and the fix), then rendered as plain,
// known data that a policy pack can inspect at preview.
import type { Cidr } from "../core/cidr";
import { clusterPoolMaskSize, nativeRoutingCidr, parseNetworkCidr } from "./cidr";
import { resolveChartVersion, type ChartVersion } from "./chartVersions";
import { planMtu } from "./mtu";
import { strictModeValues, type StrictModeValues } from "./strictMode";

/** Who allocates pod CIDRs: Cilium (cluster-pool) or Kubernetes (Node.spec.podCIDRs). */
export const IpamMode = { ClusterPool: "cluster-pool", Kubernetes: "kubernetes" } as const;
export type IpamMode = (typeof IpamMode)[keyof typeof IpamMode];
export const IPAM_MODES: readonly IpamMode[] = Object.values(IpamMode);

/** Keepalive used where NAT (or a cross-cloud path) may drop idle WireGuard UDP mappings. */
export const DEFAULT_PERSISTENT_KEEPALIVE = "25s";

export interface CiliumValuesInput {
  /** Chart version or line (`cilium.version`); default: the pinned newest stable. */
  readonly chartVersion?: string;
  /** IPv4 pod CIDR of the cluster; also the WireGuard strict-mode CIDR. */
  readonly podCidrV4: string;
  /** IPv6 pod CIDR; setting it turns on dual stack. Default: IPv4 only. */
  readonly podCidrV6?: string;
  /** `cilium.nativeRoutingCidr`; default: podCidrV4. Must cover podCidrV4. */
  readonly nativeRoutingCidrV4?: string;
  /** IPv6 native-routing CIDR; default: podCidrV6. Must cover podCidrV6. */
  readonly nativeRoutingCidrV6?: string;
  /** `cilium.ipamMode`; default "cluster-pool" (Cilium allocates from podCidrV4/V6). */
  readonly ipamMode?: IpamMode;
  /** Per-node IPv4 block size for cluster-pool IPAM; default 24. Ignored for kubernetes IPAM. */
  readonly clusterPoolMaskSizeV4?: number;
  /** Per-node IPv6 block size for cluster-pool IPAM; default 120. */
  readonly clusterPoolMaskSizeV6?: number;
  /** API server host for kube-proxy replacement (no kube-proxy to find it otherwise). */
  readonly k8sServiceHost: string;
  /** API server port; default 6443. */
  readonly k8sServicePort?: number;
  /** Underlay path MTU per cloud in the stack, e.g. { aws: 1500, gcp: 1460 }. */
  readonly underlayMtus: Readonly<Record<string, number>>;
  /** Nodes sit behind NAT: turns on WireGuard persistent keepalive. Default false. */
  readonly behindNat?: boolean;
  /** Nodes span clouds (paths cross NAT gateways/firewalls): also turns on keepalive. Default false. */
  readonly multiCloud?: boolean;
  /** Keepalive interval when behindNat/multiCloud; default "25s". */
  readonly persistentKeepalive?: string;
  /** Hubble and its relay (on by default) and UI (off by default). */
  readonly hubble?: HubbleSettings;
}

/** Which Hubble parts run; relay and ui need enabled. */
export interface HubbleSettings {
  /** Hubble itself; default true. */
  readonly enabled?: boolean;
  /** Hubble Relay; default: as enabled. */
  readonly relay?: boolean;
  /** Hubble UI; default false. */
  readonly ui?: boolean;
}

export interface CiliumValues {
  routingMode: "native";
  ipv4: { enabled: true };
  ipv6: { enabled: boolean };
  ipv4NativeRoutingCIDR: string;
  ipv6NativeRoutingCIDR?: string;
  autoDirectNodeRoutes: false;
  ipam: {
    mode: IpamMode;
    operator?: {
      clusterPoolIPv4PodCIDRList: string[];
      clusterPoolIPv4MaskSize: number;
      clusterPoolIPv6PodCIDRList?: string[];
      clusterPoolIPv6MaskSize?: number;
    };
  };
  MTU: number;
  kubeProxyReplacement: "true";
  k8sServiceHost: string;
  k8sServicePort: number;
  bpf: { hostLegacyRouting: true };
  encryption: {
    enabled: true;
    type: "wireguard";
    nodeEncryption: false;
    strictMode: StrictModeValues;
    wireguard: { persistentKeepalive: string };
  };
  hubble: { enabled: boolean; relay: HubbleComponent; ui: HubbleComponent };
}

export interface Toleration {
  key: string;
  operator: "Exists";
  effect: "NoSchedule";
}

/** Relay and UI are Deployments: without this they wait for a Ready worker (see README). */
export interface HubbleComponent {
  enabled: boolean;
  tolerations?: Toleration[];
}

/**
 * kubeadm's control-plane taint. Tolerating it lets Hubble Relay and UI run on a
 * control-plane node, so a stack with no worker (or whose workers are not Ready yet) still
 * finishes the atomic Helm install instead of rolling back.
 */
export const CONTROL_PLANE_TOLERATIONS: readonly Toleration[] = [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }];

const hubbleComponent = (enabled: boolean): HubbleComponent =>
  enabled ? { enabled, tolerations: CONTROL_PLANE_TOLERATIONS.map((t) => ({ ...t })) } : { enabled };

function keepalive(input: CiliumValuesInput): string {
  if (!input.behindNat && !input.multiCloud) return "0s";
  const value = input.persistentKeepalive ?? DEFAULT_PERSISTENT_KEEPALIVE;
  if (!/^[1-9][0-9]*s$/.test(value)) throw new Error(`cilium.persistentKeepalive: "${value}" must be whole seconds such as "25s"`);
  return value;
}

function hubble(input: CiliumValuesInput): CiliumValues["hubble"] {
  const enabled = input.hubble?.enabled ?? true;
  const relay = input.hubble?.relay ?? enabled;
  const ui = input.hubble?.ui ?? false;
  if (!enabled && (relay || ui)) throw new Error("cilium.hubble: relay and ui need cilium.hubble.enabled: true");
  return { enabled, relay: hubbleComponent(relay), ui: hubbleComponent(ui) };
}

function servicePort(port: number | undefined): number {
  const value = port ?? 6443;
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`cilium.k8sServicePort: ${value} must be a TCP port (1..65535)`);
  return value;
}

/** The inputs checked, defaults applied: what the values are rendered from. */
interface Resolved {
  readonly chart: ChartVersion;
  readonly podV4: Cidr;
  readonly nativeV4: Cidr;
  readonly podV6?: Cidr;
  readonly nativeV6?: Cidr;
  readonly ipam: CiliumValues["ipam"];
  readonly mtu: number;
  readonly port: number;
  readonly keepalive: string;
  readonly hubble: CiliumValues["hubble"];
}

/** Checks the inputs and applies the defaults; throws a config error naming the offending key. */
function resolve(input: CiliumValuesInput): Resolved {
  const chart = resolveChartVersion(input.chartVersion);
  if (input.k8sServiceHost.trim() === "") throw new Error("cilium.k8sServiceHost: empty; give the API server's host name or IP");
  const podV4 = parseNetworkCidr(input.podCidrV4, "ipv4", "cilium.podCidr");
  const nativeV4 = nativeRoutingCidr(podV4, input.nativeRoutingCidrV4, "cilium.nativeRoutingCidr");
  const podV6 = input.podCidrV6 === undefined ? undefined : parseNetworkCidr(input.podCidrV6, "ipv6", "cilium.podCidrV6");
  const nativeV6 = podV6 && nativeRoutingCidr(podV6, input.nativeRoutingCidrV6, "cilium.nativeRoutingCidrV6");
  if (!podV6 && input.nativeRoutingCidrV6 !== undefined) throw new Error("cilium.nativeRoutingCidrV6: set cilium.podCidrV6 too (dual stack)");
  const mode = input.ipamMode ?? IpamMode.ClusterPool;
  if (!IPAM_MODES.includes(mode)) throw new Error(`cilium.ipamMode: "${mode}" must be one of ${IPAM_MODES.join(", ")}`);
  const ipam: CiliumValues["ipam"] = { mode };
  if (mode === IpamMode.ClusterPool) {
    ipam.operator = {
      clusterPoolIPv4PodCIDRList: [podV4.text],
      clusterPoolIPv4MaskSize: clusterPoolMaskSize(podV4, input.clusterPoolMaskSizeV4 ?? 24, "cilium.clusterPoolMaskSizeV4"),
    };
    if (podV6) {
      ipam.operator.clusterPoolIPv6PodCIDRList = [podV6.text];
      ipam.operator.clusterPoolIPv6MaskSize = clusterPoolMaskSize(podV6, input.clusterPoolMaskSizeV6 ?? 120, "cilium.clusterPoolMaskSizeV6");
    }
  }
  const mtu = planMtu(input.underlayMtus, "cilium.underlayMtus", chart.version).ciliumMtu;
  return { chart, podV4, nativeV4, podV6, nativeV6, ipam, mtu, port: servicePort(input.k8sServicePort), keepalive: keepalive(input), hubble: hubble(input) };
}

/** What is wrong with the inputs (each problem names the cilium.* key and the fix); empty when nothing is. */
export function ciliumProblems(input: CiliumValuesInput): string[] {
  try {
    resolve(input);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** Builds the Helm values; throws a config error naming the offending key on bad input. */
export function buildCiliumValues(input: CiliumValuesInput): CiliumValues {
  const r = resolve(input);
  const values: CiliumValues = {
    routingMode: "native",
    ipv4: { enabled: true },
    ipv6: { enabled: r.podV6 !== undefined },
    ipv4NativeRoutingCIDR: r.nativeV4.text,
    autoDirectNodeRoutes: false,
    ipam: r.ipam,
    MTU: r.mtu,
    kubeProxyReplacement: "true",
    k8sServiceHost: input.k8sServiceHost,
    k8sServicePort: r.port,
    bpf: { hostLegacyRouting: true },
    encryption: {
      enabled: true,
      type: "wireguard",
      nodeEncryption: false,
      strictMode: strictModeValues(r.chart.line, r.podV4.text),
      wireguard: { persistentKeepalive: r.keepalive },
    },
    hubble: r.hubble,
  };
  if (r.nativeV6) values.ipv6NativeRoutingCIDR = r.nativeV6.text;
  return values;
}
