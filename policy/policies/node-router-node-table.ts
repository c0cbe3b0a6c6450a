// Stack policy: the agent's node table (the `node-router-node-table` ConfigMap, format in
// components/core/nodeTable.ts and agent/README.md) lists every node the stack creates, by
// name and public address. A node missing from it is neither guarded nor steered by any agent.
// An entry may list more addresses than the node's public one (its private address too): it is
// judged by name and by the public address being among them. Node names: an AWS instance's `Name`
// tag, a GCP instance's `name` (else the resource name); public addresses: lib/node-addresses.ts.
import type { StackValidationPolicy } from "@pulumi/policy";
import { z } from "zod";
import { policyConfig, roleFields } from "../lib/config";
import { addressIndex, peerAddresses } from "../lib/node-addresses";
import { nodeResources } from "../lib/nodes";
import { fromPolicyResource, label, TYPES, type Res } from "../lib/resources";
import { isUnknown, UnknownNotes } from "../lib/unknowns";
import { asRecord, at } from "../lib/values";

const NAME = "node-router-node-table";
const schema = z.object({
  configMapName: z.string().default("node-router-node-table").describe("Name of the ConfigMap holding the agent's node table"),
  key: z.string().default("node-table.json").describe("Its data key"),
  ...roleFields,
});
export type NodeRouterNodeTableConfig = z.infer<typeof schema>;
const config = policyConfig(schema);

const READS: ReadonlySet<string> = new Set([
  TYPES.configMap,
  TYPES.awsInstance,
  TYPES.gcpInstance,
  TYPES.awsNetworkInterface,
  TYPES.awsNetworkInterfaceAttachment,
  TYPES.awsEip,
  TYPES.awsEipAssociation,
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
]);

interface Entry {
  name: string;
  addresses: string[];
}

/** The node's name in the table: the AWS Name tag / GCP instance name, else the resource name; undefined while unknown. */
function nodeName(r: Res): string | undefined {
  const own = r.type === TYPES.gcpInstance ? r.props["name"] : at(r.props, "tags.Name");
  if (isUnknown(own)) return undefined;
  return typeof own === "string" && own !== "" ? own : r.name;
}

function parseTable(text: string): Entry[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `is not JSON (${(e as Error).message})`;
  }
  const nodes = at(doc, "nodes");
  if (!Array.isArray(nodes)) return "has no `nodes` list";
  return nodes.map((n) => ({
    name: String(at(n, "name") ?? ""),
    addresses: Array.isArray(at(n, "addresses")) ? (at(n, "addresses") as unknown[]).filter((a): a is string => typeof a === "string") : [],
  }));
}

export const nodeRouterNodeTable: StackValidationPolicy = {
  name: NAME,
  description: "The agent's node table ConfigMap must list every node the stack creates, with its public address.",
  enforcementLevel: "mandatory",
  configSchema: config.configSchema,
  remediationSteps: "Build the node table from every node of the stack (components/core/nodeTable.ts): each node's name and its static public address.",
  validateStack: (args, reportViolation) => {
    const cfg = config.read(args, NAME);
    // Only the types it reads: converting every resource of a big stack is the cost of a stack policy.
    const resources = args.resources.filter((r) => READS.has(r.type)).map(fromPolicyResource);
    const tables = resources.filter((r) => r.type === TYPES.configMap && at(r.props, "metadata.name") === cfg.configMapName);
    if (tables.length === 0) return;
    const nodes = nodeResources(resources, [], cfg).filter((r) => r.type === TYPES.awsInstance || r.type === TYPES.gcpInstance);
    if (nodes.length === 0) return;
    const notes = new UnknownNotes();
    const ix = addressIndex(resources);
    for (const t of tables) {
      const who = label(t);
      const field = `data["${cfg.key}"]`;
      const data = asRecord(t.props["data"]);
      const text = isUnknown(data) ? data : data[cfg.key];
      if (isUnknown(text)) {
        notes.add(`${field} of ${who}`);
        continue;
      }
      if (typeof text !== "string") {
        reportViolation(`${who}: ${field} is missing, so the agent knows no node; publish the node table there.`, t.urn);
        continue;
      }
      const entries = parseTable(text);
      if (typeof entries === "string") {
        reportViolation(`${who}: ${field} ${entries}; the agent cannot read it.`, t.urn);
        continue;
      }
      const byName = new Map(entries.map((e) => [e.name, e]));
      for (const n of nodes) {
        const name = nodeName(n);
        if (name === undefined) {
          notes.add(`the name of node ${label(n)}`);
          continue;
        }
        const entry = byName.get(name);
        if (!entry) {
          reportViolation(
            `${who}: ${field} has no entry for node '${name}' (${label(n)}), so no agent guards or steers traffic to it; add it with its public address.`,
            t.urn,
          );
          continue;
        }
        for (const a of peerAddresses(n, ix, "public").addresses) {
          if (isUnknown(a)) {
            notes.add(`the public address of ${label(n)}`);
            continue;
          }
          if (!entry.addresses.includes(a)) {
            reportViolation(
              `${who}: ${field} lists node '${name}' (${label(n)}) with ${JSON.stringify(entry.addresses)}, without its public address ${a}; ` +
                "traffic from that address is not recognised as a node's; list it.",
              t.urn,
            );
          }
        }
      }
    }
    notes.finish();
  },
};
