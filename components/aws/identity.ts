// A node's AWS identity: an instance role whose only permission is reading its role's join
// secrets (../cluster/nodeAccess.ts) during the join window.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { awsReadPolicy } from "../cluster/nodeAccess";

export interface NodeIdentity {
  readonly profile: aws.iam.InstanceProfile;
  /** The inline policy: what instances booting with the profile must wait for. */
  readonly grant: aws.iam.RolePolicy;
}

export function nodeProfile(
  parent: pulumi.Resource,
  name: string,
  tags: Record<string, string>,
  secretArns: pulumi.Output<string>[],
  until: pulumi.Output<string>,
): NodeIdentity {
  const opts = { parent };
  const role = new aws.iam.Role(
    name,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    },
    opts,
  );
  const grant = new aws.iam.RolePolicy(
    `${name}-join-secrets`,
    {
      role: role.id,
      policy: pulumi.all([pulumi.all(secretArns), until]).apply(([arns, end]) => awsReadPolicy(arns, end)),
    },
    opts,
  );
  return { profile: new aws.iam.InstanceProfile(name, { role: role.name, tags }, opts), grant };
}
