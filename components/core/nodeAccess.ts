// What each node role may read in its cloud, and for how long: the one place the nodes'
// cloud permissions are decided (each cloud renders them: ../aws/identity.ts,
// ../gcp/identity.ts; README "Security model" lists them, and test/permissions.test.ts checks
// the two against the registered resources).
//
// - Control planes read the PKI bundle (CA keys: kubeadm needs them on disk to join) and the
//   join tokens; workers read the join tokens only. Both read the boot guard's node addresses
//   (public, but past what EC2's user data holds). Nothing else: no project role, no
//   managed policy.
// - Only during the join window: until the current join token expires. Nodes read both at
//   boot; after that, a stolen node identity cannot fetch the CA keys or a token from the
//   store. `pulumi up` renews the window with every new token, which is when nodes are created.
import type { NodeRole } from "./nodes";

export type NodeSecret = "pki" | "join-token" | "boot-guard";

/** The secrets each role reads at boot. */
export const SECRETS_BY_ROLE: Readonly<Record<NodeRole, readonly NodeSecret[]>> = {
  "control-plane": ["pki", "join-token", "boot-guard"],
  worker: ["join-token", "boot-guard"],
};

/** A secret in the node's own cloud's store, read at boot with the node's own instance identity. */
export interface SecretRef {
  readonly aws?: { readonly region: string; readonly secretId: string };
  readonly gcp?: { readonly project: string; readonly secretId: string };
}
