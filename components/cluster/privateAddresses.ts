// Every node's private (VPC) address, computed from the subnet plan alone, so the node table
// that lists it is known before any instance or interface exists (the table is in every node's
// boot files). The AWS interface is created with it and the GCP address reserved with it.
//
// Stable under the changes a stack makes most: each pool of a subnet owns a fixed block of
// its usable addresses (POOL_BLOCKS blocks per subnet, in the order the pools first appear in
// the cluster's node order) and node <pool>-<n> takes slot n of it. Growing or shrinking a pool,
// or adding one after the others, moves no other node's address (a moved address would replace
// the node's interface and so its instance). Removing or reordering pools does move the later
// ones: the program cannot see the addresses of the previous run.
import * as ipaddr from "ipaddr.js";
import type { Cloud } from "../core/nodes";
import { parseCidr } from "../core/cidr";

/** Addresses each cloud keeps in every subnet: AWS the first four and the last, GCP the first two and the last two. */
export const SUBNET_RESERVED: Readonly<Record<Cloud, { readonly head: number; readonly tail: number }>> = {
  aws: { head: 4, tail: 1 },
  gcp: { head: 2, tail: 2 },
};

/** Blocks per subnet: pools of one subnet (one AWS zone, or GCP's one subnet) at most. */
export const POOL_BLOCKS = 4;

/** What cannot be placed, for the caller to name by its own keys. */
export type PlacementProblem =
  | { readonly kind: "pools"; readonly pools: readonly string[]; readonly blocks: number }
  | { readonly kind: "count"; readonly pool: string; readonly count: number; readonly fits: number };

/** The usable addresses of an IPv4 subnet for `cloud`, and how many each pool's block holds. */
export function subnetCapacity(cloud: Cloud, cidr: string): { usable: number; perPool: number } {
  const parsed = parseCidr(cidr);
  if (parsed.family !== 4) throw new Error(`${cidr}: node subnets are IPv4`);
  const { head, tail } = SUBNET_RESERVED[cloud];
  const usable = Math.max(0, 2 ** (32 - parsed.prefix) - head - tail);
  return { usable, perPool: Math.floor(usable / POOL_BLOCKS) };
}

/** A node's pool and its slot in it, from its name `<pool prefix>-<n>` (NodeSpec's `<cluster>-<cloud>-<pool>-<index>`). */
export function poolSlot(nodeName: string): { pool: string; slot: number } {
  const m = /^(.+)-(\d+)$/.exec(nodeName);
  if (!m) throw new Error(`node "${nodeName}" is not named <pool>-<index>; its private address is its index in its pool's block`);
  return { pool: m[1], slot: Number(m[2]) };
}

/**
 * The private address of every node in one subnet of `cloud`, by node name, or what does not
 * fit: more pools than blocks, or a pool with more nodes (highest index + 1) than its block holds.
 */
export function subnetAddresses(cloud: Cloud, cidr: string, nodeNames: readonly string[]): { addresses: Record<string, string>; problems: PlacementProblem[] } {
  const { perPool } = subnetCapacity(cloud, cidr);
  const slots = nodeNames.map((name) => ({ name, ...poolSlot(name) }));
  const pools = [...new Set(slots.map((s) => s.pool))];
  const problems: PlacementProblem[] = [];
  if (pools.length > POOL_BLOCKS) problems.push({ kind: "pools", pools, blocks: POOL_BLOCKS });
  for (const pool of pools) {
    const count = Math.max(...slots.filter((s) => s.pool === pool).map((s) => s.slot)) + 1;
    if (count > perPool) problems.push({ kind: "count", pool, count, fits: perPool });
  }
  if (problems.length > 0) return { addresses: {}, problems };
  const base = toNumber(parseCidr(cidr).address.toString()) + SUBNET_RESERVED[cloud].head;
  const addresses = Object.fromEntries(slots.map((s) => [s.name, fromNumber(base + pools.indexOf(s.pool) * perPool + s.slot)]));
  return { addresses, problems };
}

const toNumber = (ip: string): number =>
  ipaddr.IPv4.parse(ip)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);
const fromNumber = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** The node subnets: AWS one per zone, GCP one for the region. */
export interface SubnetPlan {
  /** AWS node subnet CIDR per zone. */
  readonly aws?: Readonly<Record<string, string>>;
  /** GCP node subnet CIDR. */
  readonly gcp?: string;
}

/** One subnet's placement problem: which cloud and subnet (and AWS zone) it is in. */
export interface SubnetProblem {
  readonly cloud: Cloud;
  readonly zone?: string;
  readonly cidr: string;
  readonly problem: PlacementProblem;
}

/** Every node's private address by name, subnet by subnet, or every subnet's problems. */
export function privateAddresses(
  nodes: readonly { name: string; cloud: Cloud; zone: string }[],
  plan: SubnetPlan,
): { addresses: Record<string, string>; problems: SubnetProblem[] } {
  const subnets = new Map<string, { cloud: Cloud; zone?: string; cidr: string; names: string[] }>();
  for (const node of nodes) {
    const cidr = node.cloud === "aws" ? plan.aws?.[node.zone] : plan.gcp;
    if (cidr === undefined)
      throw new Error(`node ${node.name}: no ${node.cloud} subnet${node.cloud === "aws" ? ` for zone ${node.zone}` : ""} in the subnet plan`);
    const key = `${node.cloud} ${cidr}`;
    if (!subnets.has(key)) subnets.set(key, { cloud: node.cloud, zone: node.cloud === "aws" ? node.zone : undefined, cidr, names: [] });
    subnets.get(key)!.names.push(node.name);
  }
  const addresses: Record<string, string> = {};
  const problems: SubnetProblem[] = [];
  for (const s of subnets.values()) {
    const placed = subnetAddresses(s.cloud, s.cidr, s.names);
    Object.assign(addresses, placed.addresses);
    problems.push(...placed.problems.map((problem) => ({ cloud: s.cloud, zone: s.zone, cidr: s.cidr, problem })));
  }
  return { addresses, problems };
}

/** A placement problem in words, with the fix (the caller prefixes the config key). */
export function describePlacement(p: SubnetProblem): string {
  const where = p.cloud === "aws" ? `zone ${p.zone}'s subnet ${p.cidr}` : `the GCP subnet ${p.cidr}`;
  const larger = p.cloud === "aws" ? `give the zone a larger subnet in aws.subnetCidrs.${p.zone}` : "set gcp.subnetCidr to a larger range";
  if (p.problem.kind === "pools") {
    return `${p.problem.pools.length} pools share ${where}, at most ${p.problem.blocks} can (each owns a fixed block of its addresses, so growing one never moves another's); merge pools${p.cloud === "aws" ? " or place some in another zone" : ""}`;
  }
  const perPoolIn22 = subnetCapacity(p.cloud, "10.0.0.0/22").perPool;
  return `${p.problem.count} nodes, but a pool's block of ${where} holds ${p.problem.fits} (1/${POOL_BLOCKS} of its usable addresses); ${larger} (a /22 holds ${perPoolIn22} per pool)${p.cloud === "aws" ? " or spread the pool over zones" : ""}`;
}
