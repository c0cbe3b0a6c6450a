// Cilium's own configuration keys (cilium-config ConfigMap data, Helm `extraConfig`,
// CiliumNodeConfig `spec.defaults`, and the same names as agent flags) and what they mean for
// the settings the pack checks. Booleans are read as the agent reads them (strconv.ParseBool;
// text it rejects reads as false).
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asBool, asString, helmRender, type Maybe } from "./values";

export type CiliumSetting =
  | "routingMode"
  | "tunnelProtocol"
  | "encryptionEnabled"
  | "encryptionType"
  | "nodeEncryption"
  | "hostLegacyRouting"
  | "nativeRoutingCidr"
  | "strictModeEnabled"
  | "strictModeCidr"
  | "keepalive"
  | "lbAcceleration";

export interface CiliumSettings {
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
  /** XDP acceleration of the service load balancer (`disabled`, `native`, `best-effort`, `testing-only`). */
  lbAcceleration: Maybe<string>;
}

export const NO_SETTINGS: CiliumSettings = {
  routingMode: undefined,
  tunnelProtocol: undefined,
  encryptionEnabled: undefined,
  encryptionType: undefined,
  nodeEncryption: undefined,
  hostLegacyRouting: undefined,
  nativeRoutingCidr: undefined,
  strictModeEnabled: undefined,
  strictModeCidr: undefined,
  keepalive: undefined,
  lbAcceleration: undefined,
};

/** Config keys per setting; the first is the one messages name. Older spellings follow. */
export const KEYS: Record<Exclude<CiliumSetting, "encryptionEnabled" | "encryptionType">, string[]> = {
  routingMode: ["routing-mode"],
  tunnelProtocol: ["tunnel-protocol"],
  nodeEncryption: ["encrypt-node"],
  hostLegacyRouting: ["enable-host-legacy-routing"],
  nativeRoutingCidr: ["ipv4-native-routing-cidr"],
  strictModeEnabled: ["enable-encryption-strict-mode-egress", "enable-encryption-strict-mode"],
  strictModeCidr: ["encryption-strict-egress-cidr", "encryption-strict-mode-egress-cidr", "encryption-strict-mode-cidr"],
  keepalive: ["wireguard-persistent-keepalive"],
  lbAcceleration: ["bpf-lb-acceleration", "node-port-acceleration"],
};
const BOOLEAN: ReadonlySet<CiliumSetting> = new Set(["nodeEncryption", "hostLegacyRouting", "strictModeEnabled"]);
/** Keys that are boolean flags (a bare `--key` means true). */
export const BOOLEAN_KEYS: ReadonlySet<string> = new Set(["enable-wireguard", "enable-ipsec", ...[...BOOLEAN].flatMap((s) => KEYS[s as keyof typeof KEYS])]);

export type Located = { value: Maybe<unknown>; field: string };

/**
 * Layers keys over settings. `get(key)` returns the key's raw value and field, or undefined when
 * the layer does not set it. A `full` layer (a whole cilium-config) also decides what it leaves
 * out: no enable-wireguard / enable-ipsec means no encryption.
 */
export function applyKeys(
  settings: CiliumSettings,
  fields: Partial<Record<CiliumSetting, string>>,
  get: (key: string) => Located | undefined,
  full: boolean,
  fieldOf: (key: string) => string = (k) => k,
): void {
  for (const [setting, keys] of Object.entries(KEYS) as Array<[keyof typeof KEYS, string[]]>) {
    const hit = keys.map(get).find((l) => l !== undefined);
    if (!hit) continue;
    const v = hit.value;
    (settings as unknown as Record<string, unknown>)[setting] = isUnknown(v)
      ? UNKNOWN
      : BOOLEAN.has(setting)
        ? asBool(v)
        : asString(v === undefined ? v : helmRender(v));
    fields[setting] = hit.field;
  }
  // The legacy `tunnel: disabled` meant native routing.
  const tunnel = get("tunnel");
  if (tunnel && !get("routing-mode") && tunnel.value === "disabled") {
    settings.routingMode = "native";
    fields.routingMode = tunnel.field;
  }
  const wg = get("enable-wireguard");
  const ipsec = get("enable-ipsec");
  if (!wg && !ipsec && !full) return;
  const on = (l: Located | undefined): Maybe<boolean> => (l === undefined ? false : (asBool(l.value) ?? false));
  const w = on(wg);
  const i = on(ipsec);
  fields.encryptionEnabled = (wg ?? ipsec)?.field ?? fieldOf("enable-wireguard");
  if (w === true || i === true) {
    settings.encryptionEnabled = true;
    settings.encryptionType = w === true ? "wireguard" : "ipsec";
    fields.encryptionType = (w === true ? wg : ipsec)!.field;
  } else if (isUnknown(w) || isUnknown(i)) {
    settings.encryptionEnabled = UNKNOWN;
    settings.encryptionType = UNKNOWN;
  } else {
    settings.encryptionEnabled = false;
    settings.encryptionType = undefined;
  }
}

/** A map of keys (ConfigMap data, extraConfig, spec.defaults) as a layer. */
export function mapLayer(data: unknown, fieldOf: (key: string) => string): (key: string) => Located | undefined {
  return (key) => {
    if (isUnknown(data)) return { value: UNKNOWN, field: fieldOf(key) };
    if (data === null || typeof data !== "object") return undefined;
    const v = (data as Record<string, unknown>)[key];
    return v === undefined || v === null ? undefined : { value: v, field: fieldOf(key) };
  };
}

/** Agent flags (`--key=value`, `--key value`, bare boolean `--key`) as a layer; the last one wins. */
export function flagLayer(args: unknown, fieldOf: (index: number) => string): (key: string) => Located | undefined {
  return (key) => {
    if (isUnknown(args)) return { value: UNKNOWN, field: fieldOf(-1) };
    if (!Array.isArray(args)) return undefined;
    let found: Located | undefined;
    args.forEach((a, i) => {
      if (isUnknown(a)) {
        found = { value: UNKNOWN, field: fieldOf(i) };
        return;
      }
      if (typeof a !== "string") return;
      if (a.startsWith(`--${key}=`)) found = { value: a.slice(key.length + 3), field: fieldOf(i) };
      else if (a === `--${key}`) {
        const next = args[i + 1];
        found = BOOLEAN_KEYS.has(key) ? { value: "true", field: fieldOf(i) } : { value: isUnknown(next) ? UNKNOWN : next, field: fieldOf(i + 1) };
      }
    });
    return found;
  };
}

/** Agent environment (CILIUM_ENABLE_WIREGUARD=...) as a layer: viper binds CILIUM_<KEY>. */
export function envLayer(env: unknown, fieldOf: (index: number, name: string) => string): (key: string) => Located | undefined {
  return (key) => {
    if (isUnknown(env)) return { value: UNKNOWN, field: fieldOf(-1, "env") };
    if (!Array.isArray(env)) return undefined;
    const name = `CILIUM_${key.toUpperCase().replace(/-/g, "_")}`;
    let found: Located | undefined;
    env.forEach((e, i) => {
      if (e !== null && typeof e === "object" && (e as Record<string, unknown>)["name"] === name) {
        const v = (e as Record<string, unknown>)["value"];
        found = { value: v === undefined ? UNKNOWN : v, field: fieldOf(i, name) };
      }
    });
    return found;
  };
}

export type { Unknown };
