// A node's AWS identity: an instance role with nothing but, for the control plane, reading
// its PKI secret.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export function nodeProfile(parent: pulumi.Resource, name: string, tags: Record<string, string>, pkiSecretArn: pulumi.Output<string> | undefined): aws.iam.InstanceProfile {
  const opts = { parent };
  const role = new aws.iam.Role(name, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
    tags,
  }, opts);
  if (pkiSecretArn) {
    new aws.iam.RolePolicy(`${name}-pki`, {
      role: role.id,
      policy: pkiSecretArn.apply((arn) => JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arn }],
      })),
    }, opts);
  }
  return new aws.iam.InstanceProfile(name, { role: role.name, tags }, opts);
}
