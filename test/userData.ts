// Reads an instance's user data back as the node gets it: AWS's is gzipped in
// userDataBase64 (cloud-init unpacks it), GCP's is plain text in the metadata.
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";
import { gunzipUserData } from "../components/aws/userData";
import { unpackBootGuardNodes } from "../components/cluster/bootstrap/bootGuard";

export function userDataOf(instance: Recorded): string {
  if (instance.type === "aws:ec2/instance:Instance") return gunzipUserData(instance.inputs.userDataBase64);
  return instance.inputs.metadata["user-data"];
}

export const instances = (rs: readonly Recorded[]): Recorded[] => [...ofType(rs, "aws:ec2/instance:Instance"), ...ofType(rs, "gcp:compute/instance:Instance")];

/** An instance's node name (AWS: its Name tag; GCP: its name). */
export const nodeNameOf = (instance: Recorded): string => instance.inputs.tags?.Name ?? instance.inputs.name;

/** AWS: role tag; GCP: the role's network tag. */
export const isControlPlaneInstance = (instance: Recorded): boolean =>
  instance.type === "aws:ec2/instance:Instance"
    ? instance.inputs.tags["wg-mesh/role"] === "control-plane"
    : (instance.inputs.tags as string[]).some((t) => t.endsWith("-control-plane"));

/** The boot guard's node-address document stored in each cloud's secret store, unpacked (bootGuard.ts bootGuardNodes). */
export function bootGuardDocuments(rs: readonly Recorded[]): Partial<Record<"aws" | "gcp", string>> {
  const aws = ofType(rs, "aws:secretsmanager/secretVersion:SecretVersion").find((v) => v.name.endsWith("-boot-guard"));
  const gcp = ofType(rs, "gcp:secretmanager/secretVersion:SecretVersion").find((v) => v.name.endsWith("-boot-guard"));
  return {
    ...(aws ? { aws: unpackBootGuardNodes(aws.inputs.secretString) } : {}),
    ...(gcp ? { gcp: unpackBootGuardNodes(gcp.inputs.secretData) } : {}),
  };
}
