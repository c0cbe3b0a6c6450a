// Which nodes a run rebuilds (issue 27's image roll). An instance's image and boot files are
// frozen after creation (../core/lifecycle.ts): only a node in the run's rebuild list gets them
// live again, and the engine then replaces it (drained before, waited for after, one node at a
// time: ./upgrade/rebuild.ts). Which image a running node was built from is state, which a
// program cannot read; so the stack records it in its own output `nodeBuilds`, and the next run
// reads that record back (infra/previousBuilds.ts) and compares it with the config:
// - a node recorded with another image than its cloud's configured one is rebuilt (the image roll);
// - a node listed in cluster.replaceNodes is rebuilt once per listing: the record remembers that
//   it was rebuilt while listed, so leaving it listed rebuilds nothing more (no hand edit);
// - the only control plane is never rolled for an image: its disk holds etcd, so its rebuild
//   would start an empty cluster. It keeps its image, and the run says so.
// A run that stops half way records nothing (the output resolves only once every rebuilt node
// has rejoined), so the next run plans the same rebuilds; the nodes already rebuilt then have
// their new image and boot files in state, no diff, and are not touched again.
import { isControlPlane, type NodeSpec } from "../core/nodes";
import type { ClusterArgs } from "./args";

/** What a node's instance was last built from, as the stack records it. */
export interface NodeBuild {
  /** The AMI or GCP image its instance was created from. */
  readonly image: string;
  /** Rebuilt while listed in cluster.replaceNodes, and listed ever since. */
  readonly listed?: boolean;
}

/** Every node's build by name: the stack output `nodeBuilds`. */
export interface NodeBuilds {
  readonly [node: string]: NodeBuild;
}

export interface BuildPlanInputs {
  /** The stack's nodes. */
  readonly nodes: readonly NodeSpec[];
  /** The configured image of each node's cloud. */
  readonly imageOf: (node: NodeSpec) => string;
  /** The record of the last finished run; undefined when there is none (a new stack, or a state from before the record). */
  readonly previous: NodeBuilds | undefined;
  /** cluster.replaceNodes. */
  readonly replaceNodes: readonly string[];
}

export interface BuildPlan {
  /** Nodes rebuilt on this run, control planes first, in the nodes' order. */
  readonly rebuild: readonly string[];
  /** Why each is rebuilt, for the run's log. */
  readonly reasons: Readonly<Record<string, string>>;
  /** Nodes whose new image cannot be rolled (the only control plane), with the reason. */
  readonly held: Readonly<Record<string, string>>;
  /** What the stack records once this run has finished. */
  readonly record: NodeBuilds;
}

/** The run's rebuilds and the record it leaves, from the config and the last record. Pure. */
export function planNodeBuilds(i: BuildPlanInputs): BuildPlan {
  const controlPlanes = i.nodes.filter(isControlPlane);
  const reasons: Record<string, string> = {};
  const held: Record<string, string> = {};
  const record: Record<string, NodeBuild> = {};
  for (const node of i.nodes) {
    const want = i.imageOf(node);
    const before = i.previous?.[node.name];
    const listed = i.replaceNodes.includes(node.name);
    // Listed and not yet rebuilt while listed (with no record at all, as before the record: rebuilt).
    const requested = listed && !before?.listed;
    // Only a node the record knows can be behind; a node new to it is created with `want`.
    const behind = before !== undefined && before.image !== want;
    const soleControlPlane = isControlPlane(node) && controlPlanes.length === 1;
    if (requested) reasons[node.name] = "listed in cluster.replaceNodes";
    else if (behind && soleControlPlane) {
      held[node.name] =
        `${node.name} keeps image ${before.image}: it is the only control plane, and its disk holds etcd, so rebuilding it for ${want} would start an empty cluster; ` +
        `add control planes first (then it rolls with them), or keep its image`;
    } else if (behind) reasons[node.name] = `image ${before.image} -> ${want}`;
    const rebuilt = reasons[node.name] !== undefined;
    record[node.name] = {
      image: rebuilt || before === undefined ? want : before.image,
      ...(listed && (rebuilt || before?.listed) ? { listed: true } : {}),
    };
  }
  const order = [...controlPlanes, ...i.nodes.filter((n) => !isControlPlane(n))];
  return { rebuild: order.map((n) => n.name).filter((n) => reasons[n] !== undefined), reasons, held, record };
}

/** A record read back from the stack: undefined unless it is an object of { image: string }. */
export function parseNodeBuilds(value: unknown): NodeBuilds | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  const valid = entries.every(
    ([, b]) =>
      b !== null &&
      typeof b === "object" &&
      typeof (b as NodeBuild).image === "string" &&
      ((b as NodeBuild).listed === undefined || typeof (b as NodeBuild).listed === "boolean"),
  );
  return valid ? (value as NodeBuilds) : undefined;
}

/** The plan of a Cluster with these args (the Cluster's own, and the VersionGuard's before it). */
export function planClusterBuilds(args: Pick<ClusterArgs, "nodes" | "aws" | "gcp" | "previousBuilds" | "replaceNodes">): BuildPlan {
  return planNodeBuilds({
    nodes: args.nodes,
    imageOf: (n) => (n.cloud === "aws" ? args.aws!.ami : args.gcp!.image),
    previous: args.previousBuilds,
    replaceNodes: args.replaceNodes ?? [],
  });
}
