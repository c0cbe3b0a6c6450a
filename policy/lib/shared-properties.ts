// One deserialization of a resource's properties per analyzer request, shared by every policy.
//
// The policy runtime (@pulumi/policy server.js) turns the request's protobuf Struct into
// JavaScript once per resource policy per Analyze, and every resource's once per stack policy
// per AnalyzeStack: with 13 resource and 14 stack policies that is 27,000 conversions of 1,000
// resources per preview, most of the pack's evaluation time (policy/README.md, "Evaluation
// time"). Only a policy bound to one type (validateResourceOfType) escapes it, and every policy
// here reads two or more types.
//
// installSharedProperties() wraps the runtime's deserializeProperties so that the same Struct
// object is converted once: the result is kept in a WeakMap keyed on that Struct. The key is
// safe because the runtime reads the Struct from a request message it received and never
// changes (protobuf messages cache their sub-messages, so req.getProperties() and
// r.getProperties() return the same object for the same request, and a new request brings new
// objects); when the request is gone the entry goes with it. Each policy still gets its own
// unknown-checking proxy around the shared tree. Sharing is sound because nothing writes to the
// tree: the runtime's proxy has no set trap but our policies never write through it either,
// they only copy it (lib/resources.ts fromResourceArgs/fromPolicyResource, lib/unknowns.ts
// plain). The stack policies' copies are shared as well (sharedCopy below), deep-frozen, so a
// policy that tried to change one would throw instead of changing what the next policy sees.
// Calls with proxySecrets (the runtime's remediation path, whose props a remediation may
// change) are never cached.
import * as deserializeModule from "@pulumi/policy/deserialize";

type Deserialize = (struct: unknown, proxySecrets: boolean) => Record<string, unknown>;
interface DeserializeModule {
  deserializeProperties?: Deserialize & { shared?: true };
}

/** Trees produced by the shared deserializer: the only objects whose copies are cached. */
const sharedTrees = new WeakSet<object>();
/** Copies (plain()) of shared trees, keyed on the tree. */
const copies = new WeakMap<object, object>();
/** Those copies: deep-frozen, made from a request that does not change, so their identity stands for their content. */
const sharedCopies = new WeakSet<object>();

/**
 * Wraps @pulumi/policy's deserializeProperties (idempotent). Returns false when the runtime does
 * not have the expected shape, in which case nothing changes and every policy deserializes as before.
 */
export function installSharedProperties(): boolean {
  const mod = deserializeModule as unknown as DeserializeModule;
  const original = mod.deserializeProperties;
  if (typeof original !== "function") return false;
  if (original.shared) return true;
  const byStruct = new WeakMap<object, Record<string, unknown>>();
  const shared: Deserialize & { shared?: true } = (struct, proxySecrets) => {
    if (proxySecrets || struct === null || typeof struct !== "object") return original(struct, proxySecrets);
    let tree = byStruct.get(struct);
    if (tree === undefined) {
      tree = original(struct, false);
      byStruct.set(struct, tree);
      sharedTrees.add(tree);
    }
    return tree;
  };
  shared.shared = true;
  try {
    mod.deserializeProperties = shared;
  } catch {
    return false;
  }
  return mod.deserializeProperties === shared;
}

/**
 * The copy `make` produces of `tree`, made once per shared tree (one made by the shared
 * deserializer above) and deep-frozen except for objects `keepMutable` names (asset references,
 * whose contents arrive later). Any other tree, such as a test's plain object that may change
 * between runs, gets a fresh copy every time.
 */
export function sharedCopy<T extends object>(tree: unknown, make: () => T, keepMutable: (o: object) => boolean): T {
  if (tree === null || typeof tree !== "object" || !sharedTrees.has(tree)) return make();
  const cached = copies.get(tree);
  if (cached !== undefined) return cached as T;
  const copy = make();
  deepFreeze(copy, keepMutable);
  copies.set(tree, copy);
  sharedCopies.add(copy);
  return copy;
}

/** Is `o` a copy sharedCopy made (frozen, of an unchanging request)? */
export function isSharedCopy(o: unknown): boolean {
  return o !== null && typeof o === "object" && sharedCopies.has(o);
}

/** Freezes `value` and everything it reaches, except objects `keepMutable` names and what is already frozen. */
export function deepFreeze(value: unknown, keepMutable: (o: object) => boolean): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value) || keepMutable(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v, keepMutable);
}
