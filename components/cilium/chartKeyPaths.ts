// Pure key-path logic shared by scripts/derive-chart-keys.ts (which derives the key lists
// from a chart's values.yaml) and the tests (which check every value we emit against them).
import { isMap, isPair, isScalar, parseDocument, type YAMLMap } from "yaml";

/** Suffix marking a free-form map: any child key below `<path>` is accepted. */
export const FREE_FORM_SUFFIX = ".*";

// A helm-docs comment block (`# -- text`) whose last line is `key: value` documents a key
// whose default is commented out (1.17's `#kubeProxyReplacement: "false"`). The chart
// templates read such keys, so they are real value keys even though YAML does not see them.
// Prose lines such as `ref: https://...` or `burst: The burst rate ...` are not keys: a key
// starts lowercase and its value is empty or one non-URL token.
const COMMENTED_KEY = /^\s?([a-z][A-Za-z0-9_-]*):(?:\s+(?!https?:)(\S+))?\s*$/;

function commentedKeys(comment: string | null | undefined): string[] {
  if (!comment) return [];
  const found: string[] = [];
  for (const block of comment.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    if (lines.length < 2 || !lines[0].trimStart().startsWith("-- ")) continue;
    const match = COMMENTED_KEY.exec(lines[lines.length - 1]);
    if (match) found.push(match[1]);
  }
  return found;
}

// Maps that Helm passes through verbatim (annotations, labels, nodeSelector, extraConfig,
// resources, ...) are empty by default or keyed by label-like names containing `.` or `/`.
// Their children are not chart keys, so they become `path.*` wildcards.
function isFreeForm(map: YAMLMap): boolean {
  return map.items.length === 0 || map.items.some((pair) => /[./]/.test(String(isScalar(pair.key) ? pair.key.value : pair.key)));
}

function walk(map: YAMLMap, prefix: string, out: Set<string>): void {
  for (const name of commentedKeys(map.commentBefore)) out.add(prefix + name);
  for (const pair of map.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    for (const name of commentedKeys(pair.key.commentBefore)) out.add(prefix + name);
    const path = prefix + String(pair.key.value);
    out.add(path);
    // Lists and scalars (null included) are leaves: Helm replaces them as a whole.
    if (isMap(pair.value)) {
      if (isFreeForm(pair.value)) out.add(path + FREE_FORM_SUFFIX);
      else walk(pair.value, path + ".", out);
    }
  }
  for (const name of commentedKeys(map.comment)) out.add(prefix + name);
}

/** Sorted dotted key paths of a values.yaml: every map key (intermediate ones included). */
export function deriveChartKeyPaths(valuesYaml: string): string[] {
  const doc = parseDocument(valuesYaml);
  if (doc.errors.length > 0) throw new Error(`values.yaml does not parse: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new Error("values.yaml must be a mapping at the top level");
  const out = new Set<string>(commentedKeys(doc.commentBefore));
  walk(doc.contents, "", out);
  for (const name of commentedKeys(doc.comment)) out.add(name);
  return [...out].sort();
}

/** Dotted paths of every leaf of a values object; arrays are leaves, as in Helm's merge. */
export function leafKeyPaths(values: object, prefix = ""): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const path = prefix + key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
      paths.push(...leafKeyPaths(value as object, path + "."));
    } else {
      paths.push(path);
    }
  }
  return paths;
}

/** True when `path` is a chart key or lies under a free-form map of the chart. */
export function isChartKey(path: string, chartKeys: ReadonlySet<string>): boolean {
  if (chartKeys.has(path)) return true;
  const parts = path.split(".");
  for (let i = parts.length - 1; i > 0; i--) {
    if (chartKeys.has(parts.slice(0, i).join(".") + FREE_FORM_SUFFIX)) return true;
  }
  return false;
}
