// A node's AWS identity: an instance role whose only permission is reading its role's join
// secrets (../core/nodeAccess.ts) during the join window.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** The AWS action that reads a secret's value: the only one a node role is granted. */
export const AWS_READ_ACTION = "secretsmanager:GetSecretValue";
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
