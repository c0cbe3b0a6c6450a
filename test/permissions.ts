// The nodes' cloud permissions, read back from the resources the program registers: AWS role
// policies and GCP secret grants and access scopes, one row per role, cloud, permission and
// secret. README "Security model" lists the same rows (test/permissions.test.ts).
import { ofType, type Recorded } from "./pulumiMocks";

export interface PermissionRow {
  readonly role: string;
  readonly cloud: string;
  readonly permission: string;
  readonly on: string;
  readonly until: string;
}

/** Resource types a node identity is made of; anything else IAM-like is a finding. */
export const IDENTITY_TYPES = [
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/instanceProfile:InstanceProfile",
  "gcp:serviceaccount/account:Account",
  "gcp:secretmanager/secretIamMember:SecretIamMember",
];

const clusterOf = (rs: readonly Recorded[]) =>
  rs.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-join-token"))!.name.replace(/-join-token$/, "");
const generic = (s: string, cluster: string) => s.split(cluster).join("<cluster>");

export function permissionRows(rs: readonly Recorded[]): PermissionRow[] {
  const cluster = clusterOf(rs);
  const expires = rs.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-join-token"))!.state.expires as string;
  const window = (end: string | undefined) => (end === undefined ? "—" : end === expires ? "the join token expires" : `UNEXPECTED ${end}`);
  const rows: PermissionRow[] = [];
  const awsSecrets = ofType(rs, "aws:secretsmanager/secret:Secret");
  for (const p of ofType(rs, "aws:iam/rolePolicy:RolePolicy")) {
    const role = ofType(rs, "aws:iam/role:Role").find((r) => r.id === p.inputs.role)!;
    const nodeRole = role.name.endsWith("-control-plane") ? "control-plane" : "worker";
    for (const st of JSON.parse(p.inputs.policy).Statement) {
      for (const action of [st.Action].flat()) {
        for (const arn of [st.Resource].flat()) {
          const secret = awsSecrets.find((s) => s.state.arn === arn);
          rows.push({
            role: nodeRole,
            cloud: "aws",
            permission: action,
            on: generic(secret?.inputs.name ?? arn, cluster),
            until: window(st.Condition?.DateLessThan?.["aws:CurrentTime"]),
          });
        }
      }
    }
  }
  const accounts = ofType(rs, "gcp:serviceaccount/account:Account");
  const gcpSecrets = ofType(rs, "gcp:secretmanager/secret:Secret");
  for (const m of ofType(rs, "gcp:secretmanager/secretIamMember:SecretIamMember")) {
    const account = accounts.find((a) => m.inputs.member === `serviceAccount:${a.state.email}`)!;
    const nodeRole = account.inputs.accountId.endsWith("-cp") ? "control-plane" : "worker";
    const secret = gcpSecrets.find((s) => s.id === m.inputs.secretId)!;
    const end = /request\.time < timestamp\("([^"]+)"\)/.exec(m.inputs.condition?.expression ?? "")?.[1];
    rows.push({ role: nodeRole, cloud: "gcp", permission: m.inputs.role, on: generic(secret.inputs.secretId, cluster), until: window(end) });
  }
  for (const i of ofType(rs, "gcp:compute/instance:Instance")) {
    const nodeRole = (i.inputs.tags as string[]).some((t) => t.endsWith("-control-plane")) ? "control-plane" : "worker";
    for (const scope of i.inputs.serviceAccount.scopes)
      rows.push({ role: nodeRole, cloud: "gcp", permission: "access scope", on: scope.replace("https://www.googleapis.com/auth/", ""), until: "—" });
  }
  return rows;
}

export const rowKey = (r: PermissionRow) => `${r.role} | ${r.cloud} | ${r.permission} | ${r.on} | ${r.until}`;

/** The rows of README's table between the node-permissions markers. */
export function readmeRows(readme: string): string[] {
  const m = /<!-- node-permissions:begin -->([\s\S]*?)<!-- node-permissions:end -->/.exec(readme);
  if (!m) throw new Error("README.md has no <!-- node-permissions:begin --> ... <!-- node-permissions:end --> table");
  return m[1]
    .split("\n")
    .filter((l) => l.startsWith("|") && !/^\|\s*-/.test(l) && !/^\|\s*role\s*\|/.test(l))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, ""))
        .join(" | "),
    );
}
