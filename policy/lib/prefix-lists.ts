// AWS managed prefix lists as rule sources: a list in the stack (ManagedPrefixList `entries`, and
// ManagedPrefixListEntry resources pointing at it) expands into its CIDRs; a list outside the
// stack (another stack's, or an AWS-managed one) can never be seen and stays opaque.
import { refersTo, TYPES, type Res } from "./resources";
import type { Source } from "./firewall-types";
import { isUnknown } from "./unknowns";
import { asArray, at } from "./values";

/** A source after expansion: never a prefix list; `via` names the list an entry came from. */
export type Expanded = Exclude<Source, { kind: "prefix-list" }> & { via?: string };

export interface PrefixListIndex {
  expand(source: Source): Expanded[];
}

export function prefixListIndex(resources: readonly Res[]): PrefixListIndex {
  const lists = resources.filter((r) => r.type === TYPES.awsPrefixList);
  const entries = resources.filter((r) => r.type === TYPES.awsPrefixListEntry);
  const expand = (s: Source): Expanded[] => {
    if (s.kind !== "prefix-list") return [s];
    const list = lists.find((l) => (s.ref.id !== undefined && l.props["id"] === s.ref.id) || (s.ref.id === undefined && s.ref.urns.includes(l.urn)));
    if (!list) {
      return s.ref.id !== undefined
        ? [{ kind: "opaque", what: `the entries of prefix list ${s.ref.id} (not in this stack)` }]
        : [{ kind: "unknown", what: "a prefix list id", deps: s.ref.urns }];
    }
    const via = `prefix list '${list.name}'`;
    const out: Expanded[] = [];
    const inline = asArray(list.props["entries"]);
    if (isUnknown(inline)) out.push({ kind: "unknown", what: `the entries of ${via}`, deps: list.propertyDependencies["entries"] ?? [], via });
    else
      for (const e of inline) {
        const c = at(e, "cidr");
        out.push(
          typeof c === "string"
            ? { kind: "cidr", cidr: c, via }
            : { kind: "unknown", what: `an entry of ${via}`, deps: list.propertyDependencies["entries"] ?? [], via },
        );
      }
    for (const e of entries) {
      if (!refersTo(e.props["prefixListId"], e.propertyDependencies["prefixListId"], list)) continue;
      const c = e.props["cidr"];
      out.push(
        typeof c === "string"
          ? { kind: "cidr", cidr: c, via }
          : { kind: "unknown", what: `the cidr of '${e.name}'`, deps: e.propertyDependencies["cidr"] ?? [], via },
      );
    }
    return out;
  };
  return { expand };
}
