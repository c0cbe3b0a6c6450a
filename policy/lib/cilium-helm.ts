// Cilium Helm values as the chart's templates turn them into cilium-config, modelled exactly:
//   - `{{- if .Values.encryption.enabled }}` gates the encryption block with Go template
//     truthiness, and inside it `enable-wireguard: {{ .Values.encryption.enabled | quote }}`
//     renders the value as text, which the agent parses with strconv.ParseBool. So `"false"`
//     (a string) passes the gate but renders "false": WireGuard stays off; `1` renders "1": on;
//     `0` or `""` fail the gate: unset; null removes the key: the chart default.
//   - bpf.hostLegacyRouting renders whenever it is not null; strict mode and nodeEncryption are
//     gated like encryption.enabled.
//   - `extraConfig` is appended to cilium-config and overrides any key; `extraArgs` are agent
//     flags, which win over the ConfigMap.
// Values that live in valueYamlFiles are invisible: a key missing from `values` is then unknown.
import { applyKeys, flagLayer, mapLayer, NO_SETTINGS, type CiliumSetting, type CiliumSettings } from "./cilium-keys";
import type { Res } from "./resources";
import { isUnknown, UNKNOWN } from "./unknowns";
import { asArray, asString, at, helmGatedBool, helmRender, helmRenderedBool, helmTruthy } from "./values";

export const HELM_FIELDS: Record<CiliumSetting, string> = {
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

/** Boolean values the chart expects, for the type advisory. */
const BOOLEAN_VALUES = ["encryption.enabled", "encryption.nodeEncryption", "bpf.hostLegacyRouting", "encryption.strictMode.enabled",
  "encryption.strictMode.egress.enabled", "encryption.strictMode.ingress.enabled"];

export interface HelmReading {
  settings: CiliumSettings;
  fields: Partial<Record<CiliumSetting, string>>;
  /** The raw value behind a setting, when it came straight from `values` (for messages). */
  raw: Partial<Record<CiliumSetting, unknown>>;
  typeIssues: string[];
}

export function readHelmValues(res: Res): HelmReading {
  const values = res.props["values"];
  const opaque = asArray(res.props["valueYamlFiles"]);
  const hidden = isUnknown(opaque) || opaque.length > 0;
  const v = (path: string): unknown => {
    const found = at(values, path);
    return found === undefined && hidden ? UNKNOWN : found;
  };
  const pick = (nested: string, flat: string, both: string): [unknown, string] =>
    (at(values, nested) !== undefined ? [v(nested), `values.${nested}`] : at(values, flat) !== undefined ? [v(flat), `values.${flat}`] : [v(flat), both]);
  const enabled = v("encryption.enabled");
  const gate = isUnknown(enabled) ? UNKNOWN : helmTruthy(enabled);
  const [strict, strictField] = pick("encryption.strictMode.egress.enabled", "encryption.strictMode.enabled", HELM_FIELDS.strictModeEnabled);
  const [strictCidr, strictCidrField] = pick("encryption.strictMode.egress.cidr", "encryption.strictMode.cidr", HELM_FIELDS.strictModeCidr);
  const mode = v("routingMode");
  const keepalive = v("encryption.wireguard.persistentKeepalive");
  const native = v("ipv4NativeRoutingCIDR");
  const nodeEnc = v("encryption.nodeEncryption");
  const settings: CiliumSettings = {
    ...NO_SETTINGS,
    // `routingMode | default ...`: empty means the default (tunnel); legacy `tunnel: disabled` meant native.
    routingMode: isUnknown(mode) ? UNKNOWN : helmTruthy(mode) ? helmRender(mode) : v("tunnel") === "disabled" ? "native" : undefined,
    tunnelProtocol: asString(v("tunnelProtocol")),
    encryptionEnabled: helmGatedBool(enabled),
    encryptionType: asString(v("encryption.type")),
    nodeEncryption: gate === false ? undefined : isUnknown(gate) ? UNKNOWN : helmGatedBool(nodeEnc),
    hostLegacyRouting: helmRenderedBool(v("bpf.hostLegacyRouting")),
    nativeRoutingCidr: isUnknown(native) ? UNKNOWN : helmTruthy(native) ? helmRender(native) : undefined,
    strictModeEnabled: helmGatedBool(strict),
    strictModeCidr: asString(strictCidr),
    keepalive: isUnknown(keepalive) ? UNKNOWN : helmTruthy(keepalive) ? helmRender(keepalive) : undefined,
  };
  const fields: Partial<Record<CiliumSetting, string>> = { ...HELM_FIELDS, strictModeEnabled: strictField, strictModeCidr: strictCidrField };
  const raw: Partial<Record<CiliumSetting, unknown>> = { encryptionEnabled: enabled, nodeEncryption: nodeEnc, hostLegacyRouting: v("bpf.hostLegacyRouting"), strictModeEnabled: strict };
  const typeIssues: string[] = [];
  for (const path of BOOLEAN_VALUES) {
    const x = at(values, path);
    if (x !== undefined && !isUnknown(x) && typeof x !== "boolean") typeIssues.push(`values.${path} is ${JSON.stringify(x)} (${typeof x})`);
  }
  // extraConfig is appended to cilium-config; extraArgs are flags and win over it.
  // Overrides hidden in valueYamlFiles are not assumed: a file would have to override a key the
  // values set explicitly (README: limits).
  const extraConfig = at(values, "extraConfig");
  const extraArgs = at(values, "extraArgs");
  const overridden = new Set<CiliumSetting>();
  const track = (before: Partial<Record<CiliumSetting, string>>) => (Object.keys(fields) as CiliumSetting[]).forEach((k) => { if (fields[k] !== before[k]) overridden.add(k); });
  let before = { ...fields };
  applyKeys(settings, fields, mapLayer(extraConfig, (k) => `values.extraConfig["${k}"]`), false);
  track(before);
  before = { ...fields };
  applyKeys(settings, fields, flagLayer(extraArgs, (i) => (i < 0 ? "values.extraArgs" : `values.extraArgs[${i}]`)), false);
  track(before);
  for (const k of overridden) delete raw[k];
  return { settings, fields, raw, typeIssues };
}
