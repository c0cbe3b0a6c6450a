// The node-router alerts as a Prometheus Operator PrometheusRule (monitoring.coreos.com/v1),
// created by the program when stack config `alerts.prometheusRule` is true. Its groups are read
// from node-router.rules.yaml, the plain rules file users load into any Prometheus: one source,
// so the object and the file cannot drift. Needs the Prometheus Operator's CRDs in the cluster.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { commonLabels } from "../nodeRouter/rbac";

/** The rules file, beside this module. */
export const RULES_FILE = join(__dirname, "node-router.rules.yaml");

/** One rule group as Prometheus reads it (and PrometheusRule.spec.groups carries it). */
export interface RuleGroup {
  name: string;
  rules: Record<string, unknown>[];
}

/** The groups of a rules file; throws (naming the stack config key that wants them) when it is not `groups: [{name, rules: [...]}]`. */
export function loadRuleGroups(file: string = RULES_FILE): RuleGroup[] {
  let doc: { groups?: unknown };
  try {
    doc = parse(readFileSync(file, "utf8")) as { groups?: unknown };
  } catch (e) {
    throw new Error(`alerts.prometheusRule: cannot read the rules file: ${(e as Error).message}; restore it from the repository`);
  }
  const groups = doc?.groups;
  const ok = Array.isArray(groups) && groups.length > 0 && groups.every((g) => typeof g?.name === "string" && Array.isArray(g?.rules) && g.rules.length > 0);
  if (!ok) throw new Error(`alerts.prometheusRule: ${file} is not a rules file ("groups:", each with a name and rules); restore it from the repository`);
  return groups as RuleGroup[];
}

export interface PrometheusRuleInput {
  /** Namespace of the object (the Prometheus' ruleNamespaceSelector must admit it). */
  readonly namespace: string;
  /** Extra labels, e.g. the ones the Prometheus' ruleSelector matches. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Rule groups; default: the rules file's. */
  readonly groups?: RuleGroup[];
}

/** The PrometheusRule as a plain object. */
export function prometheusRule(input: PrometheusRuleInput) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "node-router", namespace: input.namespace, labels: { ...commonLabels(), ...input.labels } },
    spec: { groups: input.groups ?? loadRuleGroups() },
  };
}

/** What is wrong with the rules file (naming the stack config key that wants it); empty when nothing is. */
export function alertsProblems(file: string = RULES_FILE): string[] {
  try {
    loadRuleGroups(file);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

export interface NodeRouterAlertsArgs {
  /** Namespace of the PrometheusRule (the Prometheus' ruleNamespaceSelector must admit it). */
  readonly namespace: string;
  /** Extra labels, e.g. the ones the Prometheus' ruleSelector matches ({release: kube-prometheus-stack}). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The node-router agent's alerts as a Prometheus Operator PrometheusRule; the Kubernetes provider comes through the resource options. */
export class NodeRouterAlerts extends pulumi.ComponentResource {
  /** The PrometheusRule object. */
  public readonly prometheusRule: k8s.apiextensions.CustomResource;

  constructor(name: string, args: NodeRouterAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:monitoring:NodeRouterAlerts", name, {}, opts);
    this.prometheusRule = new k8s.apiextensions.CustomResource(`${name}-prometheus-rule`, prometheusRule({ namespace: args.namespace, labels: args.labels }), {
      parent: this,
    });
    this.registerOutputs({ prometheusRule: this.prometheusRule });
  }
}
