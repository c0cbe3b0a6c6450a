// Recognises the node-routing agent: its DaemonSet, a DaemonSetPatch of it, or a Helm chart
// named like it.
import { TYPES, type Res } from "./resources";
import { isUnknown } from "./unknowns";
import { at } from "./values";

export interface AgentMatcher {
  label: string;
  value: string;
  namespace?: string;
}

function matches(r: Res, m: AgentMatcher): boolean {
  const ns = at(r.props, "metadata.namespace");
  if (m.namespace !== undefined && typeof ns === "string" && ns !== m.namespace) return false;
  const labels = [at(r.props, "metadata.labels"), at(r.props, "spec.template.metadata.labels"), at(r.props, "spec.selector.matchLabels")];
  const labelled = labels.some((l) => l !== null && typeof l === "object" && !isUnknown(l) && (l as Record<string, unknown>)[m.label] === m.value);
  return labelled || at(r.props, "metadata.name") === m.value;
}

export function isAgentDaemonSet(r: Res, m: AgentMatcher): boolean {
  return r.type === TYPES.daemonSet && matches(r, m);
}

/** A server-side-apply patch of the agent's DaemonSet: its fields override the DaemonSet's. */
export function isAgentDaemonSetPatch(r: Res, m: AgentMatcher): boolean {
  return r.type === TYPES.daemonSetPatch && matches(r, m);
}

/** Chart references whose last path segment is `name` (repo/name, oci://.../name, name-1.2.3.tgz). */
export function isChartNamed(chart: unknown, name: string): boolean {
  if (typeof chart !== "string") return false;
  return (chart.trim().split(/[/:]/).pop() ?? "").replace(/\.tgz$/, "").replace(/-v?\d+(\.\d+)*.*$/, "") === name;
}

/** A Helm release/chart named like the agent. */
export function isAgentChart(r: Res, m: AgentMatcher): boolean {
  return (r.type === TYPES.helmRelease || r.type === TYPES.helmChartV4) && isChartNamed(r.props["chart"], m.value);
}

/** Cheap test on the type alone: could this resource be (or install) the agent? */
export function mayBeAgent(type: string): boolean {
  return type === TYPES.daemonSet || type === TYPES.daemonSetPatch || type === TYPES.helmRelease || type === TYPES.helmChartV4;
}
