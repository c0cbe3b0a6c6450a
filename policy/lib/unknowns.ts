// Preview-time unknowns. The analyzer hands policies the resource properties wrapped in a proxy
// that THROWS on any unknown value; that would abort a whole policy on the first unknown id.
// We instead unwrap the proxy once, turn every unknown sentinel into the UNKNOWN symbol, decide
// whatever the known structure allows, and only then report what could not be checked.
import * as policyRuntime from "@pulumi/policy";

export const UNKNOWN: unique symbol = Symbol("unknown at preview");
export type Unknown = typeof UNKNOWN;

// The engine's sentinels for unknown values (string, boolean, number, array, asset, archive, object).
const SENTINELS = new Set([
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/**
 * An asset in the properties (Helm `valueYamlFiles`): a StringAsset's text is what the pack can
 * read; a FileAsset or RemoteAsset names where the content lives, which the pack cannot read.
 * The analyzer hands assets over as @pulumi/pulumi Asset objects whose contents are promises:
 * `pending` resolves them (see settleAssets); captured stacks carry the wire form.
 */
export interface AssetRef {
  readonly asset: "string" | "file" | "remote";
  text?: string | Unknown;
  path?: string | Unknown;
  uri?: string | Unknown;
  pending?: Promise<void>;
}

const ASSET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";

export function isAssetRef(value: unknown): value is AssetRef {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { asset?: unknown }).asset === "string" &&
    ASSET_KINDS.has((value as { asset: string }).asset)
  );
}
const ASSET_KINDS = new Set(["string", "file", "remote"]);

function assetRef(o: Record<string, unknown>, sink: AssetRef[] | undefined): AssetRef | undefined {
  const kind = "text" in o ? "string" : "path" in o ? "file" : "uri" in o ? "remote" : undefined;
  if (!kind) return undefined;
  const key = kind === "string" ? "text" : kind === "file" ? "path" : "uri";
  const ref: AssetRef = { asset: kind };
  const v = o[key];
  if (v instanceof Promise) {
    ref.pending = v
      .then(
        (x) => {
          ref[key] = plain(x) as string | Unknown;
        },
        () => {
          ref[key] = undefined;
        },
      )
      .finally(() => {
        delete ref.pending;
      });
    sink?.push(ref);
  } else ref[key] = plain(v) as string | Unknown;
  return ref;
}

/** What an analyzer proxy wraps; any other value is its own target. */
export function proxyTarget(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  // @pulumi/policy's proxy answers these two magic keys; plain objects (unit tests) do not.
  return (value as Record<string, unknown>)["__isSpecialProxy"] === true ? (value as Record<string, unknown>)["__getSpecialProxyTarget"] : value;
}

/** Plain JSON-like copy of analyzer properties with unknowns replaced by UNKNOWN; assets become AssetRefs (collected in `sink`). */
export function plain(value: unknown, sink?: AssetRef[]): unknown {
  if (typeof value === "string") return SENTINELS.has(value) ? UNKNOWN : value;
  if (value === null || typeof value !== "object") return value;
  const target = proxyTarget(value);
  if (Array.isArray(target)) return target.map((x) => plain(x, sink));
  if (target === null || typeof target !== "object") return plain(target, sink);
  const t = target as Record<string, unknown>;
  if (t["__pulumiAsset"] === true || t[ASSET_SIG_KEY] === ASSET_SIG) {
    const ref = assetRef(t, sink);
    if (ref) return ref;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) out[k] = plain(v, sink);
  return out;
}

/** Waits for the contents of the assets plain() found (the analyzer's Asset objects hold promises). */
export async function settleAssets(sink: readonly AssetRef[]): Promise<void> {
  const pending = sink.map((a) => a.pending).filter((p): p is Promise<void> => p !== undefined);
  if (pending.length > 0) await Promise.all(pending);
}

type UnknownValueErrorCtor = new (sentinel: string, path: string[]) => Error;
// Exported at runtime but missing from the package's typings.
const UnknownValueError = (policyRuntime as unknown as { UnknownValueError: UnknownValueErrorCtor }).UnknownValueError;

/**
 * Thrown at the end of a validation when something could not be decided. The analyzer server
 * turns an UnknownValueError into an ADVISORY diagnostic ("can't run policy ... during preview: ..."),
 * whatever the policy's own level, so what the pack cannot decide never blocks, while every
 * decidable violation has already been reported. Two kinds of reasons:
 *   - unknown at preview: the value exists and the check runs again with it during `pulumi up`;
 *   - not visible: the value lives outside the stack (a ConfigMap, a prefix list, a chart's
 *     templates) and no phase will show it; the note says where it lives.
 */
export class UncheckedAtPreview extends UnknownValueError {
  readonly reasons: string[];
  readonly notVisible: string[];
  constructor(reasons: string[], notVisible: string[] = []) {
    super(UNKNOWN_SENTINEL, []);
    this.reasons = reasons;
    this.notVisible = notVisible;
    const parts: string[] = [];
    if (reasons.length > 0) parts.push(`${reasons.join("; ")} is unknown at preview; the check runs again with real values during \`pulumi up\``);
    if (notVisible.length > 0) parts.push(`the pack cannot see ${notVisible.join("; ")}`);
    this.message = `could not be checked because ${parts.join("; and ")}`;
  }
}

/** Collects "could not be checked" notes during one validation run. */
export class UnknownNotes {
  private readonly notes: string[] = [];
  private readonly hidden: string[] = [];
  /** Something unknown at preview (known once resources exist). */
  add(note: string): void {
    if (!this.notes.includes(note)) this.notes.push(note);
  }
  /** Something no phase will show: it lives outside the stack. Say what and where. */
  notVisible(note: string): void {
    if (!this.hidden.includes(note)) this.hidden.push(note);
  }
  get list(): readonly string[] {
    return [...this.notes, ...this.hidden];
  }
  /** Call last: raises the advisory if anything was undecidable. */
  finish(): void {
    if (this.notes.length > 0 || this.hidden.length > 0) throw new UncheckedAtPreview(this.notes, this.hidden);
  }
}
