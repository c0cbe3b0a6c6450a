// What each node was built from, as the stack's last finished run recorded it (the Cluster's
// `nodeBuilds`, exported as the stack output of that name), read back through a StackReference to
// the stack itself: the only state a program can read before it registers the instances whose
// options depend on it (components/cluster/nodeBuilds.ts). A new stack, or one last run by a
// program from before the record, has no such output: no image roll on that run, and the run
// records every node at its configured image.
import * as pulumi from "@pulumi/pulumi";
import { parseNodeBuilds, type NodeBuilds } from "../components/cluster/nodeBuilds";

/** The stack output the record lives in. */
export const NODE_BUILDS_OUTPUT = "nodeBuilds";

/** The stack's own fully qualified name, as a StackReference takes it. */
export const ownStackName = (): string => `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;

export async function previousNodeBuilds(name: string): Promise<NodeBuilds | undefined> {
  const self = new pulumi.StackReference(`${name}-last-run`, { name: ownStackName() });
  const details = await self.getOutputDetails(NODE_BUILDS_OUTPUT);
  const value = details.value ?? details.secretValue;
  if (value === undefined) return undefined;
  const record = parseNodeBuilds(value);
  if (record === undefined)
    pulumi.log.warn(
      `the stack output ${NODE_BUILDS_OUTPUT} is not a record of node builds ({ "<node>": { "image": "..." } }): no image roll on this run, and this run writes a fresh record`,
    );
  return record;
}
