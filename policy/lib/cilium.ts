// Where a stack configures Cilium, and what it says. Read the same way from every place that
// can set the options this pack checks:
//   full sources (a missing key means the chart's or agent's default):
//     - a Helm v3 Release / v4 Chart of chart `cilium` (cilium-helm.ts: values, extraConfig, extraArgs);
//     - a `cilium-config` ConfigMap (rendered by a chart, a YAML file or a raw object);
//   overrides (only the keys they set are checked):
//     - a ConfigMapPatch of `cilium-config`;
//     - a CiliumNodeConfig (`spec.defaults`, for the nodes its selector picks);
//     - the `cilium` agent DaemonSet or a DaemonSetPatch of it (its agent container's flags and
//       CILIUM_* environment, which win over the ConfigMap).
import { applyKeys, envLayer, flagLayer, mapLayer, NO_SETTINGS, type CiliumSetting, type CiliumSettings } from "./cilium-keys";
import { readHelmValues, type UnreadableValues } from "./cilium-helm";
import { chartVersion, strictKeysOf, type ChartVersion } from "./cilium-versions";
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asString, at, helmTruthy } from "./values";

export type { CiliumSetting } from "./cilium-keys";

export interface CiliumSource extends CiliumSettings {
  res: Res;
  kind: "helm" | "configmap" | "override";
  /** Overrides set only some keys: a setting they leave undefined is not theirs to judge. */
  partial: boolean;
  /** Which nodes an override applies to, for messages (CiliumNodeConfig). */
  scope?: string;
  /** Field path of a setting in this source, for messages. */
  field(setting: CiliumSetting): string;
  /** The raw Helm value behind a setting, when it is not a plain boolean (for messages). */
  raw(setting: CiliumSetting): unknown;
  /** Pod CIDRs this source declares (cluster-pool IPAM); unknown entries kept as UNKNOWN. */
  podCidrs: Array<string | Unknown>;
  /** Helm values of the wrong type (strings where booleans belong). */
  typeIssues: string[];
  /** Helm values files the pack cannot read (FileAsset, RemoteAsset, not YAML). */
  unreadable?: UnreadableValues[];
  /** The chart version a Helm source pins (lib/cilium-versions.ts). */
  version?: ChartVersion;
}

/** True for chart references whose last path segment is `cilium` (repo/cilium, oci://.../cilium, cilium-1.18.2.tgz). */
export function isCiliumChart(chart: unknown): boolean {
  if (typeof chart !== "string") return false;
  const last = chart.trim().split(/[/:]/).pop() ?? "";
  return last.replace(/\.tgz$/, "").replace(/-v?\d+(\.\d+)*.*$/, "") === "cilium";
}

const CILIUM_NODE_CONFIG = /^kubernetes:cilium\.io\/v2(alpha1)?:CiliumNodeConfig$/;

function cidrList(value: unknown): Array<string | Unknown> {
  if (isUnknown(value)) return [UNKNOWN];
  if (typeof value === "string") return value.split(/[\s,]+/).filter((s) => s !== "");
  if (!Array.isArray(value)) return [];
  return value.filter((x): x is string | Unknown => typeof x === "string" || isUnknown(x));
}

function source(
  res: Res,
  kind: CiliumSource["kind"],
  settings: CiliumSettings,
  fields: Partial<Record<CiliumSetting, string>>,
  extra: Partial<CiliumSource> = {},
): CiliumSource {
  const raw = (extra as { rawValues?: Partial<Record<CiliumSetting, unknown>> }).rawValues ?? {};
  return {
    res,
    kind,
    partial: kind === "override",
    ...settings,
    podCidrs: [],
    typeIssues: [],
    field: (s) => fields[s] ?? s,
    raw: (s) => raw[s],
    ...extra,
  } as CiliumSource;
}

function isCiliumConfig(res: Res): boolean {
  return at(res.props, "metadata.name") === "cilium-config";
}

function isCiliumAgentDaemonSet(res: Res): boolean {
  const name = at(res.props, "metadata.name");
  const labels = at(res.props, "metadata.labels");
  return name === "cilium" || (labels !== null && typeof labels === "object" && (labels as Record<string, unknown>)["k8s-app"] === "cilium");
}

/** Agent flags and environment of the `cilium-agent` container(s) of a DaemonSet (or patch). */
function fromAgentDaemonSet(res: Res): CiliumSource | undefined {
  const containers = asArray(at(res.props, "spec.template.spec.containers"));
  const settings: CiliumSettings = { ...NO_SETTINGS };
  const fields: Partial<Record<CiliumSetting, string>> = {};
  const base = "spec.template.spec.containers";
  if (isUnknown(containers)) {
    applyKeys(settings, fields, () => ({ value: UNKNOWN, field: base }), false);
    return source(res, "override", settings, fields);
  }
  containers.forEach((c, ci) => {
    const name = at(c, "name");
    if (name !== undefined && name !== "cilium-agent") return;
    for (const key of ["command", "args"])
      applyKeys(
        settings,
        fields,
        flagLayer(at(c, key) ?? [], (i) => `${base}[${ci}].${key}${i < 0 ? "" : `[${i}]`}`),
        false,
      );
    applyKeys(
      settings,
      fields,
      envLayer(at(c, "env"), (i, n) => `${base}[${ci}].env[${i}] (${n})`),
      false,
    );
  });
  return Object.keys(fields).length > 0 ? source(res, "override", settings, fields) : undefined;
}

const CILIUM_TYPES: ReadonlySet<string> = new Set([
  TYPES.helmRelease,
  TYPES.helmChartV4,
  TYPES.configMap,
  TYPES.configMapPatch,
  TYPES.daemonSet,
  TYPES.daemonSetPatch,
]);

/** Cheap test on the type alone, before a resource's properties are read. */
export function mayConfigureCilium(type: string): boolean {
  return CILIUM_TYPES.has(type) || CILIUM_NODE_CONFIG.test(type);
}

/** The Cilium configuration a resource carries, or undefined when it carries none. */
export function ciliumSource(res: Res): CiliumSource | undefined {
  if (res.type === TYPES.helmRelease || res.type === TYPES.helmChartV4) {
    if (!isCiliumChart(res.props["chart"])) return undefined;
    const version = chartVersion(res);
    const h = readHelmValues(res, strictKeysOf(version));
    return source(res, "helm", h.settings, h.fields, {
      podCidrs: cidrList(at(h.values, "ipam.operator.clusterPoolIPv4PodCIDRList")),
      typeIssues: h.typeIssues,
      rawValues: h.raw,
      unreadable: h.unreadable,
      version,
    } as Partial<CiliumSource>);
  }
  if ((res.type === TYPES.configMap || res.type === TYPES.configMapPatch) && isCiliumConfig(res)) {
    const full = res.type === TYPES.configMap;
    const settings: CiliumSettings = { ...NO_SETTINGS };
    const fields: Partial<Record<CiliumSetting, string>> = {};
    const data = res.props["data"];
    const fieldOf = (k: string) => `data["${k}"]`;
    applyKeys(settings, fields, mapLayer(data, fieldOf), full, fieldOf);
    const pods = isUnknown(data) ? UNKNOWN : at(data, "cluster-pool-ipv4-cidr");
    return source(res, full ? "configmap" : "override", settings, fields, { podCidrs: cidrList(asString(pods)) });
  }
  if (CILIUM_NODE_CONFIG.test(res.type)) {
    const settings: CiliumSettings = { ...NO_SETTINGS };
    const fields: Partial<Record<CiliumSetting, string>> = {};
    applyKeys(
      settings,
      fields,
      mapLayer(at(res.props, "spec.defaults"), (k) => `spec.defaults["${k}"]`),
      false,
    );
    const selector = at(res.props, "spec.nodeSelector");
    const scope = isUnknown(selector) ? "some nodes" : `nodes matching ${JSON.stringify(selector ?? {})}`;
    return source(res, "override", settings, fields, { scope });
  }
  if ((res.type === TYPES.daemonSet || res.type === TYPES.daemonSetPatch) && isCiliumAgentDaemonSet(res)) return fromAgentDaemonSet(res);
  return undefined;
}

export function ciliumSources(resources: readonly Res[]): CiliumSource[] {
  return resources.map(ciliumSource).filter((s): s is CiliumSource => s !== undefined);
}

/** Sources that configure Cilium as a whole (not overrides): what "Cilium is installed" means. */
export function ciliumInstalls(resources: readonly Res[]): CiliumSource[] {
  return ciliumSources(resources).filter((s) => !s.partial);
}

/**
 * How a message shows a setting's value: `false`, `unset (...)`, or for a Helm value of the
 * wrong type what Helm and Cilium make of it.
 */
export function shown(src: CiliumSource, setting: CiliumSetting, value: unknown, unset: string): string {
  const raw = src.raw(setting);
  if (raw !== undefined && typeof raw !== "boolean" && !isUnknown(raw)) {
    return `${JSON.stringify(raw)} (a ${typeof raw}: Helm's \`if\` reads it as ${helmTruthy(raw)}, and the chart renders it as text, which Cilium reads as ${value ?? "unset"})`;
  }
  return value === undefined ? unset : String(value);
}

/** " (for nodes matching ...)" for overrides that apply to some nodes only. */
export function scoped(src: CiliumSource): string {
  return src.scope ? ` for ${src.scope}` : "";
}
