// The dependency graph the engine orders by, as the wrapped mock monitor recorded it.
import type { Recorded } from "./pulumiMocks";
import { instances, isControlPlaneInstance, nodeNameOf } from "./userData";

/** The founder: the first control plane in the cluster's stable order (AWS before GCP, pool order). */
export function founderOf(rs: readonly Recorded[]): string {
  return nodeNameOf(instances(rs).filter(isControlPlaneInstance)[0]);
}

/** Whether `from` depends on `urn`, directly or through any chain of recorded dependencies (or parents' children). */
export function dependsTransitively(rs: readonly Recorded[], from: Recorded, urn: string): boolean {
  const byUrn = new Map(rs.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...from.dependencies, ...Object.values(from.propertyDependencies).flat()];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next === urn) return true;
    if (seen.has(next)) continue;
    seen.add(next);
    const r = byUrn.get(next);
    if (r) stack.push(...r.dependencies, ...Object.values(r.propertyDependencies).flat());
  }
  return false;
}
