// Tolerant readers over plain() property trees: every reader returns the value, undefined when
// absent, or UNKNOWN when the value (or any object on the way to it) is unknown at preview.
// Also the two ways a boolean is decided downstream of the pack:
//   - Helm templates: `{{ if .Values.x }}` uses Go template truthiness, and `{{ .Values.x | quote }}`
//     renders the value as text (helmTruthy, helmRender);
//   - Cilium (and Go programs generally) read that text with strconv.ParseBool (goBool).
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";

export type Maybe<T> = T | undefined | Unknown;

export function at(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const key of path.split(".")) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === null ? undefined : cur;
}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool: true/false, or undefined for text Go rejects. */
export function goParseBool(text: string): boolean | undefined {
  return GO_TRUE.has(text) ? true : GO_FALSE.has(text) ? false : undefined;
}

/**
 * A boolean as a Go program reads it from text (ConfigMap data, flags): a real boolean as is,
 * anything else through strconv.ParseBool, where text it rejects reads as false (viper's GetBool).
 */
export function asBool(value: unknown): Maybe<boolean> {
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "boolean") return value;
  return goParseBool(helmRender(value)) ?? false;
}

/** Go template truthiness (`if`): false, 0, "", null and empty collections are false; all else true. */
export function helmTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

/** What `{{ value | quote }}` puts into a rendered manifest (Go's %v for scalars). */
export function helmRender(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return value === undefined || value === null ? "" : JSON.stringify(value);
}

/**
 * A chart boolean rendered as `{{- if .Values.x }} key: {{ .Values.x | quote }}`: the gate uses
 * truthiness, the agent then parses the rendered text. So "false" (a non-empty string) passes the
 * gate but renders "false"; 1 renders "1" (true); 0, "" and false fail the gate (off); null removes
 * the key (the chart default).
 */
export function helmGatedBool(value: unknown): Maybe<boolean> {
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null) return undefined;
  if (!helmTruthy(value)) return false;
  return goParseBool(helmRender(value)) ?? false;
}

/** A chart boolean rendered without a gate (`{{- if not (kindIs "invalid" .Values.x) }}`): null means unset. */
export function helmRenderedBool(value: unknown): Maybe<boolean> {
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null) return undefined;
  return goParseBool(helmRender(value)) ?? false;
}

export function asString(value: unknown): Maybe<string> {
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : typeof value === "object" ? undefined : String(value);
}

export function asArray(value: unknown): unknown[] | Unknown {
  if (isUnknown(value)) return UNKNOWN;
  return Array.isArray(value) ? value : [];
}

export function asRecord(value: unknown): Record<string, unknown> | Unknown {
  if (isUnknown(value)) return UNKNOWN;
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Strings of a list that are known; `unknown` is true when the list or an item is unknown. */
export function stringList(value: unknown): { items: string[]; unknown: boolean } {
  const list = asArray(value);
  if (isUnknown(list)) return { items: [], unknown: true };
  return { items: list.filter((x): x is string => typeof x === "string"), unknown: list.some(isUnknown) };
}
