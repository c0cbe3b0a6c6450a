// Where a stack configures Cilium, and what it says, read the same way from three places:
// a Helm v3 Release's values, a Helm v4 Chart component's values, or a rendered `cilium-config`
// ConfigMap (from a chart, a YAML file or a raw object). Missing keys mean "chart/agent default".
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asBool, asString, at, type Maybe } from "./values";

export type CiliumSetting =
  | "routingMode" | "tunnelProtocol" | "encryptionEnabled" | "encryptionType" | "nodeEncryption"
  | "hostLegacyRouting" | "nativeRoutingCidr" | "strictModeEnabled" | "strictModeCidr" | "keepalive";

export interface CiliumSource {
  res: Res;
  kind: "helm" | "configmap";
  /** Field path of a setting in this source, for messages. */
  field(setting: CiliumSetting): string;
  routingMode: Maybe<string>;
  tunnelProtocol: Maybe<string>;
  encryptionEnabled: Maybe<boolean>;
  encryptionType: Maybe<string>;
  nodeEncryption: Maybe<boolean>;
  hostLegacyRouting: Maybe<boolean>;
  nativeRoutingCidr: Maybe<string>;
  strictModeEnabled: Maybe<boolean>;
  strictModeCidr: Maybe<string>;
  keepalive: Maybe<string>;
  /** Pod CIDRs this source declares (cluster-pool IPAM); unknown entries kept as UNKNOWN. */
  podCidrs: Array<string | Unknown>;
}

/** True for chart references whose last path segment is `cilium` (repo/cilium, oci://.../cilium, cilium-1.18.2.tgz). */
export function isCiliumChart(chart: unknown): boolean {
  if (typeof chart !== "string") return false;
  const last = chart.trim().split(/[/:]/).pop() ?? "";
  return last.replace(/\.tgz$/, "").replace(/-v?\d+(\.\d+)*.*$/, "") === "cilium";
}

const HELM_FIELDS: Record<CiliumSetting, string> = {
  routingMode: "values.routingMode",
  tunnelProtocol: "values.tunnelProtocol",
  encryptionEnabled: "values.encryption.enabled",
  encryptionType: "values.encryption.type",
  nodeEncryption: "values.encryption.nodeEncryption",
  hostLegacyRouting: "values.bpf.hostLegacyRouting",
  nativeRoutingCidr: "values.ipv4NativeRoutingCIDR",
  strictModeEnabled: "values.encryption.strictMode.egress.enabled (1.19+) or values.encryption.strictMode.enabled (1.17/1.18)",
  strictModeCidr: "values.encryption.strictMode.egress.cidr (1.19+) or values.encryption.strictMode.cidr (1.17/1.18)",
  keepalive: "values.encryption.wireguard.persistentKeepalive",
};

function fromHelm(res: Res): CiliumSource {
  const values = res.props["values"];
  // Values that live in valueYamlFiles are invisible to us: a missing key could be set there.
  const opaque = asArray(res.props["valueYamlFiles"]);
  const hidden = isUnknown(opaque) || opaque.length > 0;
  const v = (path: string): unknown => {
    const found = at(values, path);
    return found === undefined && hidden ? UNKNOWN : found;
  };
  // 1.19+ nests strict mode under `egress`; 1.17/1.18 use the flat keys. Prefer whichever is set.
  const pick = (nested: string, flat: string): unknown => (v(nested) !== undefined ? v(nested) : v(flat));
  const legacyTunnel = asString(v("tunnel"));
  const routingMode = asString(v("routingMode"));
  return {
    res, kind: "helm", field: (s) => HELM_FIELDS[s],
    routingMode: routingMode === undefined && legacyTunnel === "disabled" ? "native" : routingMode,
    tunnelProtocol: asString(v("tunnelProtocol")),
    encryptionEnabled: asBool(v("encryption.enabled")),
    encryptionType: asString(v("encryption.type")),
    nodeEncryption: asBool(v("encryption.nodeEncryption")),
    hostLegacyRouting: asBool(v("bpf.hostLegacyRouting")),
    nativeRoutingCidr: asString(v("ipv4NativeRoutingCIDR")),
    strictModeEnabled: asBool(pick("encryption.strictMode.egress.enabled", "encryption.strictMode.enabled")),
    strictModeCidr: asString(pick("encryption.strictMode.egress.cidr", "encryption.strictMode.cidr")),
    keepalive: asString(v("encryption.wireguard.persistentKeepalive")),
    podCidrs: cidrList(at(values, "ipam.operator.clusterPoolIPv4PodCIDRList")),
  };
}

const CM_KEYS: Record<CiliumSetting, string> = {
  routingMode: "routing-mode",
  tunnelProtocol: "tunnel-protocol",
  encryptionEnabled: "enable-wireguard",
  encryptionType: "enable-wireguard",
  nodeEncryption: "encrypt-node",
  hostLegacyRouting: "enable-host-legacy-routing",
  nativeRoutingCidr: "ipv4-native-routing-cidr",
  strictModeEnabled: "enable-encryption-strict-mode-egress",
  strictModeCidr: "encryption-strict-mode-egress-cidr",
  keepalive: "wireguard-persistent-keepalive",
};

function fromConfigMap(res: Res): CiliumSource {
  const data = res.props["data"];
  // ConfigMap keys may contain dots, so read them directly instead of through a dotted path.
  const d = (key: string): unknown => {
    if (isUnknown(data)) return UNKNOWN;
    const value = data !== null && typeof data === "object" ? (data as Record<string, unknown>)[key] : undefined;
    return value === null ? undefined : value;
  };
  const pick = (a: string, b: string): unknown => (d(a) !== undefined ? d(a) : d(b));
  const wg = asBool(d("enable-wireguard"));
  const ipsec = asBool(d("enable-ipsec"));
  const legacyTunnel = asString(d("tunnel"));
  const routingMode = asString(d("routing-mode"));
  let encryptionType: Maybe<string>;
  if (wg === true) encryptionType = "wireguard";
  else if (ipsec === true) encryptionType = "ipsec";
  else if (isUnknown(wg) || isUnknown(ipsec)) encryptionType = UNKNOWN;
  return {
    res, kind: "configmap", field: (s) => `data["${CM_KEYS[s]}"]`,
    routingMode: routingMode === undefined && legacyTunnel === "disabled" ? "native" : routingMode,
    tunnelProtocol: asString(d("tunnel-protocol")),
    encryptionEnabled: wg === true || ipsec === true ? true : isUnknown(wg) || isUnknown(ipsec) ? UNKNOWN : false,
    encryptionType,
    nodeEncryption: asBool(d("encrypt-node")),
    hostLegacyRouting: asBool(d("enable-host-legacy-routing")),
    nativeRoutingCidr: asString(d("ipv4-native-routing-cidr")),
    strictModeEnabled: asBool(pick("enable-encryption-strict-mode-egress", "enable-encryption-strict-mode")),
    strictModeCidr: asString(pick("encryption-strict-mode-egress-cidr", "encryption-strict-mode-cidr")),
    keepalive: asString(d("wireguard-persistent-keepalive")),
    podCidrs: cidrList(asString(d("cluster-pool-ipv4-cidr"))),
  };
}

function cidrList(value: unknown): Array<string | Unknown> {
  if (isUnknown(value)) return [UNKNOWN];
  if (typeof value === "string") return value.split(/[\s,]+/).filter((s) => s !== "");
  if (!Array.isArray(value)) return [];
  return value.filter((x): x is string | Unknown => typeof x === "string" || isUnknown(x));
}

/** The Cilium configuration a resource carries, or undefined when it carries none. */
export function ciliumSource(res: Res): CiliumSource | undefined {
  if (res.type === TYPES.helmRelease || res.type === TYPES.helmChartV4) {
    return isCiliumChart(res.props["chart"]) ? fromHelm(res) : undefined;
  }
  if (res.type === TYPES.configMap && at(res.props, "metadata.name") === "cilium-config") return fromConfigMap(res);
  return undefined;
}

export function ciliumSources(resources: readonly Res[]): CiliumSource[] {
  return resources.map(ciliumSource).filter((s): s is CiliumSource => s !== undefined);
}
