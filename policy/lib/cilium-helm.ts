// Cilium Helm values as the chart's templates turn them into cilium-config, modelled exactly:
//   - `{{- if .Values.encryption.enabled }}` gates the encryption block with Go template
//     truthiness, and inside it `enable-wireguard: {{ .Values.encryption.enabled | quote }}`
//     renders the value as text, which the agent parses with strconv.ParseBool. So `"false"`
//     (a string) passes the gate but renders "false": WireGuard stays off; `1` renders "1": on;
//     `0` or `""` fail the gate: unset; null removes the key: the chart default.
//   - bpf.hostLegacyRouting renders whenever it is not null; strict mode and nodeEncryption are
//     gated like encryption.enabled.
//   - The values are Helm's: every `valueYamlFiles` entry merged in order, then `values` over
//     them (as the Release resource does). A StringAsset's YAML is read; a FileAsset, a
//     RemoteAsset or text that is no YAML map is unreadable: a key missing from what the pack
//     can read is then unknown (cilium-values-readable reports the file itself).
//   - `extraConfig` is appended to cilium-config and overrides any key; `extraEnv` is the agent
//     container's environment (CILIUM_<KEY>), which wins over cilium-config; `extraArgs` are
//     agent flags, which win over both.
import { parse } from "yaml";
import { applyKeys, envLayer, flagLayer, mapLayer, NO_SETTINGS, type CiliumSetting, type CiliumSettings } from "./cilium-keys";
import type { Res } from "./resources";
import { isAssetRef, isUnknown, UNKNOWN } from "./unknowns";
import { asArray, asString, at, helmGatedBool, helmRender, helmRenderedBool, helmTruthy } from "./values";

/** Value paths per setting (the strict-mode ones depend on the chart line, see strictModePaths). */
export const HELM_PATHS: Record<Exclude<CiliumSetting, "strictModeEnabled" | "strictModeCidr">, string> = {
  routingMode: "routingMode",
  tunnelProtocol: "tunnelProtocol",
  encryptionEnabled: "encryption.enabled",
  encryptionType: "encryption.type",
  nodeEncryption: "encryption.nodeEncryption",
  hostLegacyRouting: "bpf.hostLegacyRouting",
  nativeRoutingCidr: "ipv4NativeRoutingCIDR",
  keepalive: "encryption.wireguard.persistentKeepalive",
  lbAcceleration: "loadBalancer.acceleration",
};

export const HELM_FIELDS: Record<CiliumSetting, string> = {
  ...(Object.fromEntries(Object.entries(HELM_PATHS).map(([k, v]) => [k, `values.${v}`])) as Record<keyof typeof HELM_PATHS, string>),
  strictModeEnabled: "values.encryption.strictMode.egress.enabled (1.19+) or values.encryption.strictMode.enabled (1.17-1.19)",
  strictModeCidr: "values.encryption.strictMode.egress.cidr (1.19+) or values.encryption.strictMode.cidr (1.17-1.19)",
};

/** Boolean values the chart expects, for the type advisory. */
const BOOLEAN_VALUES = [
  "encryption.enabled",
  "encryption.nodeEncryption",
  "bpf.hostLegacyRouting",
  "encryption.strictMode.enabled",
  "encryption.strictMode.egress.enabled",
  "encryption.strictMode.ingress.enabled",
];

/** A values file the pack cannot read. */
export interface UnreadableValues {
  index: number;
  field: string;
  what: string;
  ref?: string;
  unknown: boolean;
}

export interface HelmReading {
  settings: CiliumSettings;
  fields: Partial<Record<CiliumSetting, string>>;
  /** The raw value behind a setting, when it came straight from the values (for messages). */
  raw: Partial<Record<CiliumSetting, unknown>>;
  typeIssues: string[];
  /** The merged values (files, then `values`) as far as the pack can read them. */
  values: unknown;
  unreadable: UnreadableValues[];
  /** Which strict-mode keys the chart line honours: "flat" (1.17, 1.18), "egress" (1.20+) or "both" (1.19). */
  strictKeys: "flat" | "egress" | "both";
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v) && !isUnknown(v) && !isAssetRef(v);

/** Helm's coalescing of values: maps merge key by key, anything else replaces, null deletes. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = mergeValues(out[k], v);
  }
  return out;
}

interface ValuesOrigin {
  values: unknown;
  unreadable: UnreadableValues[];
  hidden: boolean;
  fileOf(path: string): number | undefined;
}

/** Values files, then `values`, as Helm coalesces them. */
export function mergedValues(res: Res): ValuesOrigin {
  const files = asArray(res.props["valueYamlFiles"]);
  const unreadable: UnreadableValues[] = [];
  const parsed: Array<{ index: number; doc: Obj }> = [];
  if (!isUnknown(files)) {
    files.forEach((f, index) => {
      const field = `valueYamlFiles[${index}]`;
      if (isUnknown(f)) {
        unreadable.push({ index, field, what: "a values file", unknown: true });
        return;
      }
      if (isAssetRef(f) && f.asset === "string") {
        if (isUnknown(f.text)) {
          unreadable.push({ index, field, what: "a StringAsset", unknown: true });
          return;
        }
        try {
          const doc = parse(String(f.text ?? "")) as unknown;
          if (doc === null || doc === undefined) return; // an empty file sets nothing
          if (isObj(doc)) {
            parsed.push({ index, doc });
            return;
          }
        } catch {
          /* reported below */
        }
        unreadable.push({ index, field, what: "a StringAsset whose text is not a YAML map", unknown: false });
        return;
      }
      const kind = isAssetRef(f) ? f.asset : at(f, "path") !== undefined ? "file" : at(f, "uri") !== undefined ? "remote" : "other";
      const ref = isAssetRef(f) ? (kind === "file" ? f.path : f.uri) : at(f, kind === "file" ? "path" : "uri");
      if (isUnknown(ref)) {
        unreadable.push({ index, field, what: kind === "file" ? "a FileAsset" : "a RemoteAsset", unknown: true });
        return;
      }
      unreadable.push({
        index,
        field,
        unknown: false,
        ref: typeof ref === "string" ? ref : undefined,
        what: kind === "file" ? `a FileAsset '${String(ref)}'` : kind === "remote" ? `a RemoteAsset '${String(ref)}'` : "an entry that is no asset",
      });
    });
  }
  let values: unknown = {};
  for (const p of parsed) values = mergeValues(values, p.doc);
  const own = res.props["values"];
  values = isUnknown(own) ? UNKNOWN : mergeValues(values, own ?? {});
  return {
    values,
    unreadable,
    hidden: isUnknown(files) || unreadable.length > 0,
    fileOf: (path) => {
      if (at(own, path) !== undefined) return undefined;
      for (let i = parsed.length - 1; i >= 0; i--) if (at(parsed[i].doc, path) !== undefined) return parsed[i].index;
      return undefined;
    },
  };
}

/** What the chart line makes of the strict-mode keys (README of the reference charts): flat keys up to 1.19, egress keys from 1.19. */
export function strictModePaths(keys: HelmReading["strictKeys"]): Array<{ enabled: string; cidr: string }> {
  const flat = { enabled: "encryption.strictMode.enabled", cidr: "encryption.strictMode.cidr" };
  const egress = { enabled: "encryption.strictMode.egress.enabled", cidr: "encryption.strictMode.egress.cidr" };
  return keys === "flat" ? [flat] : keys === "egress" ? [egress] : [egress, flat];
}

export function readHelmValues(res: Res, strictKeys: HelmReading["strictKeys"] = "both"): HelmReading {
  const merged = mergedValues(res);
  const values = merged.values;
  const hidden = merged.hidden;
  const where = (path: string): string => {
    const file = merged.fileOf(path);
    return file === undefined ? `values.${path}` : `valueYamlFiles[${file}] ${path}`;
  };
  const v = (path: string): unknown => {
    const found = at(values, path);
    return found === undefined && hidden ? UNKNOWN : found;
  };
  const strictPaths = strictModePaths(strictKeys);
  const pick = (key: "enabled" | "cidr", all: string): [unknown, string] => {
    const hit = strictPaths.find((p) => at(values, p[key]) !== undefined);
    if (hit) return [v(hit[key]), where(hit[key])];
    return [v(strictPaths[strictPaths.length - 1][key]), strictKeys === "both" ? all : `values.${strictPaths[0][key]}`];
  };
  const enabled = v("encryption.enabled");
  const gate = isUnknown(enabled) ? UNKNOWN : helmTruthy(enabled);
  const [strict, strictField] = pick("enabled", HELM_FIELDS.strictModeEnabled);
  const [strictCidr, strictCidrField] = pick("cidr", HELM_FIELDS.strictModeCidr);
  const mode = v("routingMode");
  const keepalive = v("encryption.wireguard.persistentKeepalive");
  const native = v("ipv4NativeRoutingCIDR");
  const nodeEnc = v("encryption.nodeEncryption");
  const accel = v("loadBalancer.acceleration");
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
    // `{{- if .Values.loadBalancer.acceleration }} bpf-lb-acceleration: {{ ... | quote }}`; the chart's default is "disabled".
    lbAcceleration: isUnknown(accel) ? UNKNOWN : helmTruthy(accel) ? helmRender(accel) : undefined,
  };
  const fields: Partial<Record<CiliumSetting, string>> = {
    ...Object.fromEntries(Object.entries(HELM_PATHS).map(([k, p]) => [k, where(p)])),
    strictModeEnabled: strictField,
    strictModeCidr: strictCidrField,
  };
  const raw: Partial<Record<CiliumSetting, unknown>> = {
    encryptionEnabled: enabled,
    nodeEncryption: nodeEnc,
    hostLegacyRouting: v("bpf.hostLegacyRouting"),
    strictModeEnabled: strict,
  };
  const typeIssues: string[] = [];
  for (const path of BOOLEAN_VALUES) {
    const x = at(values, path);
    if (x !== undefined && !isUnknown(x) && typeof x !== "boolean") typeIssues.push(`${where(path)} is ${JSON.stringify(x)} (${typeof x})`);
  }
  // extraConfig is appended to cilium-config; extraEnv (CILIUM_*) wins over it; extraArgs are
  // flags and win over both. Overrides in an unreadable values file are not assumed: that file
  // is itself a violation (cilium-values-readable).
  const overridden = new Set<CiliumSetting>();
  const layer = (get: ReturnType<typeof mapLayer>) => {
    const before = { ...fields };
    applyKeys(settings, fields, get, false);
    (Object.keys(fields) as CiliumSetting[]).forEach((k) => {
      if (fields[k] !== before[k]) overridden.add(k);
    });
  };
  layer(mapLayer(at(values, "extraConfig"), (k) => `${where("extraConfig")}["${k}"]`));
  layer(envLayer(at(values, "extraEnv"), (i, n) => `${where("extraEnv")}[${i}] (${n})`));
  layer(flagLayer(at(values, "extraArgs"), (i) => (i < 0 ? where("extraArgs") : `${where("extraArgs")}[${i}]`)));
  for (const k of overridden) delete raw[k];
  return { settings, fields, raw, typeIssues, values, unreadable: merged.unreadable, strictKeys };
}
