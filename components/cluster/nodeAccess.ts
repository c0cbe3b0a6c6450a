// What each node role may read in its cloud, and for how long: the one place the nodes'
// cloud permissions are decided (the pools render them; README "Security model" lists them,
// and test/permissions.test.ts checks the two against the registered resources).
//
// - Control planes read the PKI bundle (CA keys: kubeadm needs them on disk to join) and the
//   join tokens; workers read the join tokens only. Nothing else: no project role, no
//   managed policy.
// - Only during the join window: until the current join token expires. Nodes read both at
//   boot; after that, a stolen node identity cannot fetch the CA keys or a token from the
//   store. `pulumi up` renews the window with every new token, which is when nodes are created.
// - GCP access scopes: Secret Manager accepts no OAuth scope narrower than `cloud-platform`
//   (Google's Secret Manager documentation), so each role carries exactly that one scope,
//   and IAM (above) is what narrows it; no other scope (logging, monitoring, storage,
//   compute) is granted, because no software on the nodes calls another Google API.
import type { NodeRole } from "./nodes";

export type NodeSecret = "pki" | "join-token";

/** The secrets each role reads at boot. */
export const SECRETS_BY_ROLE: Readonly<Record<NodeRole, readonly NodeSecret[]>> = {
  "control-plane": ["pki", "join-token"],
  worker: ["join-token"],
};

/** OAuth scopes of each role's GCP service account on its instances. */
export const GCP_SCOPES: Readonly<Record<NodeRole, readonly string[]>> = {
  "control-plane": ["https://www.googleapis.com/auth/cloud-platform"],
  worker: ["https://www.googleapis.com/auth/cloud-platform"],
};

/** The AWS action that reads a secret's value: the only one a node role is granted. */
export const AWS_READ_ACTION = "secretsmanager:GetSecretValue";
/** The GCP role that reads a secret's versions: the only one a node account is granted. */
export const GCP_READ_ROLE = "roles/secretmanager.secretAccessor";

/** The inline policy of an AWS node role: read these secrets until `until` (RFC 3339). */
export function awsReadPolicy(secretArns: readonly string[], until: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadJoinSecretsDuringTheJoinWindow",
        Effect: "Allow",
        Action: [AWS_READ_ACTION],
        Resource: [...secretArns],
        Condition: { DateLessThan: { "aws:CurrentTime": until } },
      },
    ],
  });
}

/** The IAM condition of a GCP secret grant: the same window (titles differ per window, so a new grant never collides with the old). */
export function gcpWindowCondition(until: string): { title: string; description: string; expression: string } {
  return {
    title: `wg-mesh-join-window-${until.replace(/[^0-9]/g, "").slice(0, 12)}`,
    description: "Nodes read their join secrets at boot only: this grant ends when the current join token expires",
    expression: `request.time < timestamp("${until}")`,
  };
}
