// A GCP node's identity: what its role's service account may read (its join secrets, during the
// join window: ../core/nodeAccess.ts decides which and how long) and the scopes it carries.
// Access scopes: Secret Manager accepts no OAuth scope narrower than `cloud-platform` (Google's
// Secret Manager documentation), so each role carries exactly that one scope, and IAM is what
// narrows it; no other scope (logging, monitoring, storage, compute) is granted, because no
// software on the nodes calls another Google API.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import type { NodeRole } from "../core/nodes";
import { SECRETS_BY_ROLE } from "../core/nodeAccess";
import type { JoinSecrets } from "../core/pool";

/** OAuth scopes of each role's GCP service account on its instances. */
export const GCP_SCOPES: Readonly<Record<NodeRole, readonly string[]>> = {
  "control-plane": ["https://www.googleapis.com/auth/cloud-platform"],
  worker: ["https://www.googleapis.com/auth/cloud-platform"],
};

/** The GCP role that reads a secret's versions: the only one a node account is granted. */
export const GCP_READ_ROLE = "roles/secretmanager.secretAccessor";

/** The IAM condition of a GCP secret grant: the same window (titles differ per window, so a new grant never collides with the old). */
export function gcpWindowCondition(until: string): { title: string; description: string; expression: string } {
  return {
    title: `wg-mesh-join-window-${until.replace(/[^0-9]/g, "").slice(0, 12)}`,
    description: "Nodes read their join secrets at boot only: this grant ends when the current join token expires",
    expression: `request.time < timestamp("${until}")`,
  };
}

const short = (role: NodeRole) => (role === "control-plane" ? "cp" : "worker");

/** A service account per role. No project roles at all: the nodes need no GCP API but reading their join secrets (secretGrants). */
export function nodeAccounts(name: string, clusterName: string, roles: readonly NodeRole[], opts: pulumi.CustomResourceOptions) {
  const accounts: Partial<Record<NodeRole, gcp.serviceaccount.Account>> = {};
  for (const role of roles) {
    accounts[role] = new gcp.serviceaccount.Account(
      `${name}-${role}`,
      { accountId: `${clusterName}-${short(role)}`.slice(0, 30), displayName: `${clusterName} ${role} nodes` },
      opts,
    );
  }
  return accounts;
}

/** Each role's account may read its role's secrets, until the join window ends: the grants its instances wait for. */
export function secretGrants(
  name: string,
  roles: readonly NodeRole[],
  accounts: Partial<Record<NodeRole, gcp.serviceaccount.Account>>,
  secrets: JoinSecrets<gcp.secretmanager.Secret>,
  joinWindowEnds: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
) {
  const grants: Partial<Record<NodeRole, gcp.secretmanager.SecretIamMember[]>> = {};
  for (const role of roles) {
    grants[role] = secrets.ofRole(role).map(
      (stored, i) =>
        new gcp.secretmanager.SecretIamMember(
          `${name}-${SECRETS_BY_ROLE[role][i]}-${short(role)}-reader`,
          {
            secretId: stored.secret.id,
            role: GCP_READ_ROLE,
            member: pulumi.interpolate`serviceAccount:${accounts[role]!.email}`,
            condition: joinWindowEnds.apply(gcpWindowCondition),
          },
          opts,
        ),
    );
  }
  return grants;
}
