// Recognises the node-routing agent's DaemonSet (or a Helm chart that installs it).
import { TYPES, type Res } from "./resources";
import { isUnknown } from "./unknowns";
import { at } from "./values";

export interface AgentMatcher {
  label: string;
  value: string;
  namespace?: string;
}

export function isAgentDaemonSet(r: Res, m: AgentMatcher): boolean {
  if (r.type !== TYPES.daemonSet) return false;
  const ns = at(r.props, "metadata.namespace");
  if (m.namespace !== undefined && typeof ns === "string" && ns !== m.namespace) return false;
  const labels = [at(r.props, "metadata.labels"), at(r.props, "spec.template.metadata.labels"), at(r.props, "spec.selector.matchLabels")];
  const labelled = labels.some((l) => l !== null && typeof l === "object" && !isUnknown(l) && (l as Record<string, unknown>)[m.label] === m.value);
  return labelled || at(r.props, "metadata.name") === m.value;
}

/** A Helm release/chart named like the agent: present, but its DaemonSet spec is not visible to us. */
export function isAgentChart(r: Res, m: AgentMatcher): boolean {
  if (r.type !== TYPES.helmRelease && r.type !== TYPES.helmChartV4) return false;
  const chart = r.props["chart"];
  return typeof chart === "string" && (chart.split(/[/:]/).pop() ?? "").replace(/\.tgz$/, "").replace(/-v?\d.*$/, "") === m.value;
}
