// Kubernetes' toleration/taint matching (core/v1 Toleration.ToleratesTaint), for the tests that
// prove the DaemonSet (and Hubble Relay) run on every node whatever taints the node carries.

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: "Exists" | "Equal";
  readonly value?: string;
  readonly effect?: TaintEffect | "";
  readonly tolerationSeconds?: number;
}

/** True when one toleration tolerates the taint. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  // An empty effect matches every effect.
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // An empty key with operator Exists matches every key; otherwise keys must be equal.
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? "Equal";
  if (operator === "Exists") return true;
  if (!toleration.key) return false; // Equal needs a key.
  return (toleration.value ?? "") === (taint.value ?? "");
}

/**
 * True when the pod stays on a node with this taint: some toleration matches it, and for
 * NoExecute none of the matching ones bounds the stay with tolerationSeconds (the taint
 * manager evicts after the smallest tolerationSeconds among the matching tolerations).
 */
export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  const matching = tolerations.filter((toleration) => toleratesTaint(toleration, taint));
  if (matching.length === 0) return false;
  if (taint.effect !== "NoExecute") return true;
  return matching.every((toleration) => toleration.tolerationSeconds === undefined);
}
