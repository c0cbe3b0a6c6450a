// Tolerant readers over plain() property trees: every reader returns the value, undefined when
// absent, or UNKNOWN when the value (or any object on the way to it) is unknown at preview.
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

/** Helm and ConfigMaps spell booleans as true/"true"; anything else unrecognised reads as false. */
export function asBool(value: unknown): Maybe<boolean> {
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "boolean") return value;
  return String(value).trim().toLowerCase() === "true";
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
