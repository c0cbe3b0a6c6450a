// How an instance lives through later `pulumi up`s. Its image and boot files (user data)
// are inputs that force replacement, and they change for reasons that are not a reason to
// rebuild a running node: a newer image pinned for new nodes, another node added to the
// table in every node's boot files, a new agent image. They are frozen after creation
// (`ignoreChanges`), so only new nodes get the new values. A node the user lists in
// cluster.replaceNodes is rebuilt on purpose: its inputs are live again and a marker (tag or
// label) that only then appears forces the replacement (`replaceOnChanges`). Instances are
// deleted before their replacement is created: each owns a fixed name, address and
// network interface that two instances cannot share.

export interface InstanceLifecycle {
  readonly ignoreChanges: string[];
  readonly replaceOnChanges: string[];
  readonly deleteBeforeReplace: true;
}

/** What an instance type freezes, and its marker (each cloud's: AWS_INSTANCE in ../aws/nodePool.ts, GCP_INSTANCE in ../gcp/nodePool.ts). */
export interface FrozenInputs {
  /** Property paths of the inputs frozen after creation. */
  readonly frozen: readonly string[];
  /** Property path of the rebuild marker. */
  readonly marker: string;
}

/** The marker's value while a node is listed in cluster.replaceNodes. */
export const REBUILD_MARKER = "requested";

export function instanceLifecycle(kind: FrozenInputs, rebuild: boolean): InstanceLifecycle {
  return rebuild
    ? { ignoreChanges: [], replaceOnChanges: [...kind.frozen, kind.marker], deleteBeforeReplace: true }
    : { ignoreChanges: [...kind.frozen], replaceOnChanges: [], deleteBeforeReplace: true };
}
