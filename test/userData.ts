// Reads an instance's user data back as the node gets it: AWS's is gzipped in
// userDataBase64 (cloud-init unpacks it), GCP's is plain text in the metadata.
import type { Recorded } from "./pulumiMocks";
import { ofType } from "./pulumiMocks";
import { gunzipUserData } from "../components/aws/userData";

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
