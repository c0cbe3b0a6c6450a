// Validation of the whole stack config before any resource is registered. Every problem
// names the config key and the fix; all problems are reported at once.
import { z } from "zod";
import { stackConfigSchema, clouds, type StackConfig } from "./configSchema";
import { parseCidr, overlaps, covers, type Cidr } from "../components/cluster/cidr";
import { expandPools, isControlPlane, type NodeSpec } from "../components/cluster/nodes";
import { buildCiliumValues } from "../components/cilium/values";
import { resolveNodeRouterSettings } from "../components/nodeRouter/settings";
import { ciliumValuesInput } from "./platform";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface ValidatedConfig {
  readonly config: StackConfig;
  readonly nodes: readonly NodeSpec[];
  readonly warnings: readonly string[];
}

/** `project` is the config namespace used in messages, e.g. `wg-mesh-cluster`. */
export function validateStackConfig(raw: Record<string, unknown>, project: string): ValidatedConfig {
  const key = (path: readonly PropertyKey[]) => `${project}:${path.map(String).join(".")}`;
  const unknownTopLevel = Object.keys(raw).filter((k) => !(k in stackConfigSchema.shape));
  const problems: string[] = unknownTopLevel.map(
    (k) => `${key([k])}: unknown key (an unknown cloud?); supported clouds are ${clouds.join(", ")} and the other keys are ${Object.keys(stackConfigSchema.shape).filter((s) => !(clouds as readonly string[]).includes(s)).join(", ")}`,
  );
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => !unknownTopLevel.includes(k)));
  const parsed = stackConfigSchema.safeParse(known);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${key(i.path)}: ${describeIssue(i)}`));
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const warnings: string[] = [];
  problems.push(...checkCloudsAndNodes(config, key, warnings));
  problems.push(...checkCidrs(config, key));
  if (problems.length === 0) problems.push(...checkPlatform(config, project));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, nodes: allNodes(config), warnings };
}

export function allNodes(config: StackConfig): NodeSpec[] {
  const name = config.cluster.name;
  return [
    ...(config.aws ? expandPools(name, "aws", config.aws.pools) : []),
    ...(config.gcp ? expandPools(name, "gcp", config.gcp.pools) : []),
  ];
}

type KeyFn = (path: readonly PropertyKey[]) => string;

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key(s) ${issue.keys.join(", ")}; remove them or fix the spelling`;
  if (issue.code === "invalid_type" && issue.input === undefined) return `required; set it with \`pulumi config set --path\``;
  return issue.message;
}

function checkCloudsAndNodes(config: StackConfig, key: KeyFn, warnings: string[]): string[] {
  const problems: string[] = [];
  if (!config.aws && !config.gcp) problems.push(`${key(["aws"])} / ${key(["gcp"])}: no cloud configured; set at least one of them with node pools`);
  for (const cloud of clouds) {
    const c = config[cloud];
    if (!c) continue;
    const seen = new Set<string>();
    c.pools.forEach((p, i) => {
      if (seen.has(p.name)) problems.push(`${key([cloud, "pools", i, "name"])}: duplicate pool name "${p.name}"; pool names must be unique per cloud`);
      seen.add(p.name);
      if (!p.zone.startsWith(`${c.region}-`) && !(cloud === "aws" && p.zone.startsWith(c.region))) {
        problems.push(`${key([cloud, "pools", i, "zone"])}: zone "${p.zone}" is not in region "${c.region}"; use a zone of ${c.region}`);
      }
    });
  }
  const nodes = allNodes(config);
  const controlPlanes = nodes.filter(isControlPlane).length;
  if (nodes.length > 0 && controlPlanes === 0) {
    problems.push(`${key(["aws|gcp", "pools"])}: no control-plane node; add a pool with role "control-plane" and count >= 1 (1 or 3 recommended)`);
  }
  if (controlPlanes > 0 && controlPlanes % 2 === 0 && !config.cluster.allowEvenEtcdMembers) {
    warnings.push(`${key(["aws|gcp", "pools"])}: ${controlPlanes} control-plane nodes make an even number of etcd members, which tolerates no more failures than ${controlPlanes - 1}; use an odd count or set ${key(["cluster", "allowEvenEtcdMembers"])} to true`);
  }
  return problems;
}

function checkCidrs(config: StackConfig, key: KeyFn): string[] {
  const problems: string[] = [];
  const parsed: { key: string; cidr: Cidr }[] = [];
  const add = (path: PropertyKey[], text: string | undefined): Cidr | undefined => {
    if (text === undefined) return undefined;
    try {
      const cidr = parseCidr(text);
      parsed.push({ key: key(path), cidr });
      return cidr;
    } catch (e) {
      problems.push(`${key(path)}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const pod = add(["cluster", "podCidr"], config.cluster.podCidr);
  add(["cluster", "serviceCidr"], config.cluster.serviceCidr);
  const vpc = config.aws ? add(["aws", "vpcCidr"], config.aws.vpcCidr) : undefined;
  const awsSubnet = config.aws ? add(["aws", "subnetCidr"], config.aws.subnetCidr) : undefined;
  if (config.gcp) add(["gcp", "subnetCidr"], config.gcp.subnetCidr);
  config.cluster.adminCidrs.forEach((c, i) => {
    try {
      parseCidr(c);
    } catch (e) {
      problems.push(`${key(["cluster", "adminCidrs", i])}: ${(e as Error).message}`);
    }
  });
  const native = config.cilium.nativeRoutingCidr;
  if (native !== undefined) {
    try {
      const n = parseCidr(native);
      if (pod && !covers(n, pod)) problems.push(`${key(["cilium", "nativeRoutingCidr"])}: ${native} does not cover the pod CIDR ${pod.text}; use a CIDR that contains it, or leave it unset to use the pod CIDR`);
    } catch (e) {
      problems.push(`${key(["cilium", "nativeRoutingCidr"])}: ${(e as Error).message}`);
    }
  }
  if (pod && pod.family !== 4) problems.push(`${key(["cluster", "podCidr"])}: must be an IPv4 CIDR`);
  if (vpc && awsSubnet && !covers(vpc, awsSubnet)) {
    problems.push(`${key(["aws", "subnetCidr"])}: ${awsSubnet.text} is not inside the VPC CIDR ${vpc.text}; pick a subnet of it`);
  }
  // Pairwise: the pod, service and node networks must be disjoint, except a subnet in its own VPC.
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i];
      const b = parsed[j];
      if (a.cidr === vpc && b.cidr === awsSubnet) continue;
      if (overlaps(a.cidr, b.cidr)) {
        problems.push(`${b.key}: ${b.cidr.text} overlaps ${a.key} (${a.cidr.text}); pod, service and node networks must not overlap, choose disjoint ranges`);
      }
    }
  }
  return problems;
}

/** Runs the Cilium values builder and the agent settings resolver; their errors name `cilium.*` / `nodeRouter.*`. */
function checkPlatform(config: StackConfig, project: string): string[] {
  const problems: string[] = [];
  const attempt = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      problems.push(`${project}:${(e as Error).message}`);
    }
  };
  attempt(() => buildCiliumValues(ciliumValuesInput(config, "api.example")));
  attempt(() => resolveNodeRouterSettings(config.nodeRouter));
  return problems;
}
