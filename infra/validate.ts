// Validation of the whole stack config before any resource is registered: the schema, then
// what spans keys (nodes, networks, pins, quotas), then what the components check of the model
// they will take (Cilium's inputs, the agent's settings). Every problem names the config key and
// the fix; all problems are reported at once. The result is the one model (./model.ts).
import { z } from "zod";
import { stackConfigSchema, type StackConfig } from "./configSchema";
import { CLOUDS, isControlPlane, type NodeSpec } from "../components/core/nodes";
import { ciliumProblems } from "../components/cilium/values";
import { imagePullSecretsProblems, nodeRouterProblems } from "../components/nodeRouter/settings";
import { apiEndpointProblem } from "../components/cluster/apiEndpoint";
import { MAX_NODES } from "../components/core/nodeTable";
import { checkNetworks, checkPrivateAddresses } from "./networks";
import { checkQuotas } from "./quotas";
import { amiProblem, gcpImageProblem, RENAMED_KEYS, REQUIRED_HINTS } from "./pins";
import { stackModel, stackNodes, type StackModel } from "./model";
import { alertsProblems } from "../components/monitoring/prometheusRule";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface ValidatedConfig {
  readonly model: StackModel;
  readonly warnings: readonly string[];
}

type KeyFn = (path: readonly PropertyKey[]) => string;

/** `project` is the config namespace used in messages, e.g. `wg-mesh-cluster`. */
export function validateStackConfig(raw: Record<string, unknown>, project: string): ValidatedConfig {
  const key: KeyFn = (path) => `${project}:${path.map(String).join(".")}`;
  const unknownTopLevel = Object.keys(raw).filter((k) => !(k in stackConfigSchema.shape));
  const problems: string[] = unknownTopLevel.map(
    (k) =>
      `${key([k])}: unknown key (an unknown cloud?); supported clouds are ${CLOUDS.join(", ")} and the other keys are ${Object.keys(stackConfigSchema.shape)
        .filter((s) => !(CLOUDS as readonly string[]).includes(s))
        .join(", ")}`,
  );
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => !unknownTopLevel.includes(k)));
  // reportInput: a value of the wrong type is told apart from a missing one (describeIssue).
  const parsed = stackConfigSchema.safeParse(known, { reportInput: true });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((i) => describeIssue(i, key)));
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const nodes = stackNodes(config);
  const warnings: string[] = [];
  problems.push(...checkCloudsAndNodes(config, nodes, key, warnings));
  problems.push(...checkNetworks(config, key));
  problems.push(...checkPins(config, key));
  // The private addresses need subnets that parse; they are computed again, alike, by the Cluster.
  if (problems.length === 0) problems.push(...checkPrivateAddresses(config, key));
  if (problems.length > 0) throw new ConfigError(problems);
  const model = stackModel(config, nodes);
  // What the components would refuse, named by the stack keys (cilium.*, nodeRouter.*).
  problems.push(...ciliumProblems(model.cilium).map((p) => `${project}:${p}`), ...nodeRouterProblems(model.nodeRouter, `${project}:nodeRouter.`));
  problems.push(...imagePullSecretsProblems(model.nodeRouter.imagePullSecrets, `${project}:nodeRouter.imagePullSecrets`));
  if (model.alerts) problems.push(...alertsProblems().map((p) => `${project}:${p}`));
  if (problems.length === 0) problems.push(...checkQuotas(config, nodes, key));
  if (problems.length > 0) throw new ConfigError(problems);
  return { model, warnings };
}

function describeIssue(issue: z.core.$ZodIssue, key: KeyFn): string[] {
  const dotted = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const renamed = issue.keys.filter((k) => RENAMED_KEYS[[...issue.path, k].join(".")] !== undefined);
    const unknown = issue.keys.filter((k) => !renamed.includes(k));
    return [
      ...renamed.map((k) => `${key([...issue.path, k])}: ${RENAMED_KEYS[[...issue.path, k].join(".")]}`),
      ...(unknown.length > 0 ? [`${key(issue.path)}: unknown key(s) ${unknown.join(", ")}; remove them or fix the spelling`] : []),
    ];
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [`${key(issue.path)}: ${REQUIRED_HINTS[dotted] ?? "required; set it with `pulumi config set --path`"}`];
  }
  return [`${key(issue.path)}: ${issue.message}`];
}

function checkCloudsAndNodes(config: StackConfig, nodes: readonly NodeSpec[], key: KeyFn, warnings: string[]): string[] {
  const problems: string[] = [];
  if (!config.aws && !config.gcp) problems.push(`${key(["aws"])} / ${key(["gcp"])}: no cloud configured; set at least one of them with node pools`);
  for (const cloud of CLOUDS) {
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
  const controlPlanes = nodes.filter(isControlPlane);
  if (nodes.length > 0 && controlPlanes.length === 0) {
    problems.push(`${key(["aws|gcp", "pools"])}: no control-plane node; add a pool with role "control-plane" and count >= 1 (1 or 3 recommended)`);
  }
  if (controlPlanes.length > 0 && controlPlanes.length % 2 === 0 && !config.cluster.allowEvenEtcdMembers) {
    warnings.push(
      `${key(["aws|gcp", "pools"])}: ${controlPlanes.length} control-plane nodes make an even number of etcd members, which tolerates no more failures than ${controlPlanes.length - 1}; use an odd count or set ${key(["cluster", "allowEvenEtcdMembers"])} to true`,
    );
  }
  if (nodes.length > MAX_NODES) {
    problems.push(
      `${key(["aws|gcp", "pools"])}: ${nodes.length} nodes; at most ${MAX_NODES}: the most the program is tested with (a 1,000-node stack under test); split the cluster or shrink the pools`,
    );
  }
  problems.push(...checkReplaceNodes(config, nodes, key, warnings));
  if (config.cluster.apiEndpoint !== undefined) {
    const p = apiEndpointProblem(config.cluster.apiEndpoint);
    if (p) problems.push(`${key(["cluster", "apiEndpoint"])}: ${p}`);
  }
  return problems;
}

/** Deliberate rebuilds: known nodes only. Several control planes may be listed: they go one at a time, each once etcd is whole again (components/cluster/upgrade/rebuild.ts). */
function checkReplaceNodes(config: StackConfig, nodes: readonly NodeSpec[], key: KeyFn, warnings: string[]): string[] {
  const problems: string[] = [];
  const names = config.cluster.replaceNodes;
  names.forEach((n, i) => {
    if (!nodes.some((x) => x.name === n))
      problems.push(
        `${key(["cluster", "replaceNodes", i])}: "${n}" is not a node of this stack; use a name from the stack output \`nodes\` (${nodes
          .slice(0, 3)
          .map((x) => x.name)
          .join(", ")}, ...)`,
      );
  });
  const cps = nodes.filter(isControlPlane);
  const cpsToReplace = cps.filter((n) => names.includes(n.name));
  if (cpsToReplace.length === 1 && cps.length === 1) {
    warnings.push(
      `${key(["cluster", "replaceNodes"])}: ${cpsToReplace[0].name} is the only control plane: replacing it creates a new, empty cluster (etcd lives on its disk); the program then re-applies Cilium and the node-router, and every other node must be replaced too to join it`,
    );
  }
  return problems;
}

function checkPins(config: StackConfig, key: KeyFn): string[] {
  const problems: string[] = [];
  if (config.aws) {
    const p = amiProblem(config.aws.ami);
    if (p) problems.push(`${key(["aws", "ami"])}: ${p}`);
  }
  if (config.gcp) {
    const p = gcpImageProblem(config.gcp.image);
    if (p) problems.push(`${key(["gcp", "image"])}: ${p}`);
  }
  return problems;
}
