// Resolves what a pod spec takes from ConfigMaps and Secrets against the stack: a named
// ConfigMap (with the ConfigMapPatches applied on top) or Secret (`data` base64, `stringData`
// over it) in the pod's namespace, and which key a path under a volume mount reads.
import { TYPES, type Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, asRecord, at } from "./values";

export type Data = Record<string, unknown> | Unknown | undefined;

const nsOf = (r: Res) => (typeof at(r.props, "metadata.namespace") === "string" ? (at(r.props, "metadata.namespace") as string) : "default");

/** The data of ConfigMap/Secret `name` in `ns`: undefined when the stack has no such object. */
export function objectData(resources: readonly Res[], kind: "configMap" | "secret", ns: string, name: string): Data {
  const type = kind === "configMap" ? TYPES.configMap : TYPES.secret;
  const named = (r: Res) => at(r.props, "metadata.name") === name && nsOf(r) === ns;
  const base = resources.find((r) => r.type === type && named(r));
  const patches = kind === "configMap" ? resources.filter((r) => r.type === TYPES.configMapPatch && named(r)) : [];
  if (!base && patches.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const r of [...(base ? [base] : []), ...patches]) {
    if (kind === "secret") {
      const data = asRecord(r.props["data"]);
      const plain = asRecord(r.props["stringData"]);
      if (isUnknown(data) || isUnknown(plain)) return UNKNOWN;
      for (const [k, v] of Object.entries(data)) out[k] = typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : v;
      Object.assign(out, plain);
    } else {
      const data = asRecord(r.props["data"]);
      if (isUnknown(data)) return UNKNOWN;
      Object.assign(out, data);
    }
  }
  return out;
}

export interface FileSource {
  kind: "configMap" | "secret";
  name: string;
  key: string;
}

/** Which ConfigMap/Secret key a file path in a container reads, if it lies on such a mount. */
export function fileSource(podSpec: unknown, container: unknown, path: string): FileSource | Unknown | undefined {
  const mounts = asArray(at(container, "volumeMounts"));
  const volumes = asArray(at(podSpec, "volumes"));
  if (isUnknown(mounts) || isUnknown(volumes)) return UNKNOWN;
  const candidates = mounts
    .filter(
      (m) => typeof at(m, "mountPath") === "string" && (path === at(m, "mountPath") || path.startsWith(`${String(at(m, "mountPath")).replace(/\/$/, "")}/`)),
    )
    .sort((a, b) => String(at(b, "mountPath")).length - String(at(a, "mountPath")).length);
  const mount = candidates[0];
  if (!mount) return undefined;
  const volume = volumes.find((v) => at(v, "name") === at(mount, "name"));
  const rel = path === at(mount, "mountPath") ? String(at(mount, "subPath") ?? "") : path.slice(String(at(mount, "mountPath")).replace(/\/$/, "").length + 1);
  const sources = [
    { kind: "configMap" as const, spec: at(volume, "configMap"), name: at(volume, "configMap.name") },
    { kind: "secret" as const, spec: at(volume, "secret"), name: at(volume, "secret.secretName") },
    ...(asArray(at(volume, "projected.sources")) as unknown[]).flatMap((s) => [
      { kind: "configMap" as const, spec: at(s, "configMap"), name: at(s, "configMap.name") },
      { kind: "secret" as const, spec: at(s, "secret"), name: at(s, "secret.name") },
    ]),
  ].filter((s) => s.spec !== undefined);
  for (const s of sources) {
    if (isUnknown(s.name)) return UNKNOWN;
    if (typeof s.name !== "string") continue;
    const items = asArray(at(s.spec, "items"));
    if (isUnknown(items)) return UNKNOWN;
    if (items.length === 0) return { kind: s.kind, name: s.name, key: rel };
    const item = items.find((i) => at(i, "path") === rel);
    if (item && typeof at(item, "key") === "string") return { kind: s.kind, name: s.name, key: at(item, "key") as string };
  }
  return undefined;
}

/** KEY=VALUE lines of an env file (`export`, quotes and comments allowed). */
export function envFile(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim();
    out.push([m[1], /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v.replace(/\s+#.*$/, "")]);
  }
  return out;
}

export { UNKNOWN };
