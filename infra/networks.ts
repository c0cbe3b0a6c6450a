// The stack's address plan, checked before anything is registered: pod, service and node
// networks parse, carry no host bits, and do not overlap; every AWS zone's subnet lies in
// the VPC. (That the native-routing CIDR covers the pod CIDR is Cilium's check: ../components/cilium.)
import type { StackConfig } from "./configSchema";
import { parseCidr, overlaps, covers, type Cidr } from "../components/core/cidr";
import { zoneSubnets } from "../components/aws/subnets";
import { describePlacement, privateAddresses } from "../components/cluster/privateAddresses";
import { expandPools, type Cloud } from "../components/core/nodes";

type KeyFn = (path: readonly PropertyKey[]) => string;

export function checkNetworks(config: StackConfig, key: KeyFn): string[] {
  const problems: string[] = [];
  const parsed: { key: string; cidr: Cidr; group?: string }[] = [];
  const add = (path: PropertyKey[], text: string | undefined, group?: string): Cidr | undefined => {
    if (text === undefined) return undefined;
    try {
      const cidr = parseCidr(text);
      parsed.push({ key: key(path), cidr, group });
      return cidr;
    } catch (e) {
      problems.push(`${key(path)}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const pod = add(["cluster", "podCidr"], config.cluster.podCidr);
  add(["cluster", "serviceCidr"], config.cluster.serviceCidr);
  if (config.aws) problems.push(...checkAwsSubnets(config, key, add));
  if (config.gcp) add(["gcp", "subnetCidr"], config.gcp.subnetCidr);
  config.cluster.adminCidrs.forEach((c, i) => {
    try {
      parseCidr(c);
    } catch (e) {
      problems.push(`${key(["cluster", "adminCidrs", i])}: ${(e as Error).message}`);
    }
  });
  if (pod && pod.family !== 4) problems.push(`${key(["cluster", "podCidr"])}: must be an IPv4 CIDR`);
  // Pairwise: the pod, service and node networks must be disjoint, except subnets inside their own VPC.
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i];
      const b = parsed[j];
      if ((a.group === "vpc" && b.group === "subnet") || (a.group === "subnet" && b.group === "vpc")) continue;
      if (overlaps(a.cidr, b.cidr)) {
        problems.push(`${b.key}: ${b.cidr.text} overlaps ${a.key} (${a.cidr.text}); pod, service and node networks must not overlap, choose disjoint ranges`);
      }
    }
  }
  return problems;
}

function checkAwsSubnets(config: StackConfig, key: KeyFn, add: (path: PropertyKey[], text: string | undefined, group?: string) => Cidr | undefined): string[] {
  const aws = config.aws!;
  const problems: string[] = [];
  const vpc = add(["aws", "vpcCidr"], aws.vpcCidr, "vpc");
  const zones = aws.pools.map((p) => p.zone);
  for (const zone of Object.keys(aws.subnetCidrs)) {
    if (!zones.includes(zone)) problems.push(`${key(["aws", "subnetCidrs", zone])}: no pool uses zone "${zone}"; remove the entry or fix the zone name`);
  }
  for (const zone of [...new Set(zones)].sort()) {
    let cidr: string;
    try {
      cidr = zoneSubnets(aws.vpcCidr, [zone], aws.subnetCidrs)[0].cidr;
    } catch (e) {
      problems.push(`${key(["aws", "subnetCidrs", zone])}: ${(e as Error).message}`);
      continue;
    }
    const subnet = add(["aws", "subnetCidrs", zone], cidr, "subnet");
    if (vpc && subnet && !covers(vpc, subnet)) {
      problems.push(`${key(["aws", "subnetCidrs", zone])}: ${subnet.text} is not inside the VPC CIDR ${vpc.text}; pick a subnet of it`);
    }
  }
  return problems;
}

/**
 * Every node's private address must fit its subnet (../components/cluster/privateAddresses.ts:
 * a fixed block per pool): what does not is named by the pool's count (too many nodes) or the
 * cloud's pools (too many pools in one subnet). Run once the networks parse.
 */
export function checkPrivateAddresses(config: StackConfig, key: KeyFn): string[] {
  const subnets = config.aws
    ? Object.fromEntries(
        zoneSubnets(
          config.aws.vpcCidr,
          config.aws.pools.map((p) => p.zone),
          config.aws.subnetCidrs,
        ).map((s) => [s.zone, s.cidr]),
      )
    : undefined;
  const problems: string[] = [];
  for (const cloud of ["aws", "gcp"] as const satisfies readonly Cloud[]) {
    const c = config[cloud];
    if (!c) continue;
    const nodes = expandPools(config.cluster.name, cloud, c.pools);
    const placed = privateAddresses(nodes, { aws: subnets, gcp: config.gcp?.subnetCidr });
    for (const p of placed.problems) {
      const pool = p.problem.kind === "count" ? p.problem.pool : undefined;
      const index = pool === undefined ? -1 : c.pools.findIndex((x) => `${config.cluster.name}-${cloud}-${x.name}` === pool);
      problems.push(`${key(index >= 0 ? [cloud, "pools", index, "count"] : [cloud, "pools"])}: ${describePlacement(p)}`);
    }
  }
  return problems;
}
