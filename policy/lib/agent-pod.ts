// The agent's pod spec: it must run on every Linux node, control plane included, in the host
// network with NET_ADMIN. For a DaemonSetPatch (`partial`) only the fields it sets are judged.
//   Scheduling: tolerate the control-plane NoSchedule taint and every NoExecute taint (without
//   tolerationSeconds); nodeSelector and required node affinity may only select what every node
//   carries (`nodeLabels`, default kubernetes.io/os: linux) - judged by VALUE, so
//   `kubernetes.io/os: windows` or `NotIn [linux]` fail; no `nodeName`.
import type { UnknownNotes } from "./unknowns";
import { isUnknown } from "./unknowns";
import { asArray, asBool, asRecord, at } from "./values";

export interface PodLimits {
  controlPlaneTaintKey: string;
  /** Labels every node that must run the agent carries: key -> the values nodes may have. */
  nodeLabels: Record<string, string[]>;
}

export interface Toleration {
  key?: unknown;
  operator?: unknown;
  value?: unknown;
  effect?: unknown;
  tolerationSeconds?: unknown;
}

/** Does some toleration match a taint (Kubernetes semantics)? `key` undefined means "any key". */
export function tolerates(ts: readonly Toleration[], key: string | undefined, effect: string, value?: string): boolean {
  return ts.some((t) => {
    const effectOk = t.effect === undefined || t.effect === "" || t.effect === effect;
    const noDeadline = effect !== "NoExecute" || t.tolerationSeconds === undefined || t.tolerationSeconds === null;
    if (t.key === undefined || t.key === "") return t.operator === "Exists" && effectOk && noDeadline;
    if (key === undefined || t.key !== key) return false;
    const valueOk = t.operator === "Exists" || ((t.operator === undefined || t.operator === "Equal") && (t.value ?? "") === (value ?? ""));
    return valueOk && effectOk && noDeadline;
  });
}

/** Does every node satisfy one node-selector requirement? */
function everyNodeMatches(key: string, op: string, values: string[], nodeLabels: Record<string, string[]>): boolean {
  const known = nodeLabels[key];
  if (!known) return false; // a label we cannot vouch for: it narrows, or may
  switch (op) {
    case "In":
      return known.every((v) => values.includes(v));
    case "NotIn":
      return known.every((v) => !values.includes(v));
    case "Exists":
      return true;
    default:
      return false; // DoesNotExist, Gt, Lt
  }
}

export function checkAgentPod(
  spec: unknown,
  P: string,
  who: string,
  limits: PodLimits,
  partial: boolean,
  report: (m: string) => void,
  notes: UnknownNotes,
): void {
  const has = (k: string) => !partial || at(spec, k) !== undefined;
  if (has("hostNetwork")) {
    const host = asBool(at(spec, "hostNetwork"));
    if (isUnknown(host)) notes.add(`${P}.hostNetwork of ${who}`);
    else if (host !== true)
      report(`${who}: ${P}.hostNetwork is ${host ?? "unset"}; the agent must run in the host network namespace to route node traffic; set it to true.`);
  }
  if (has("nodeName")) {
    const node = at(spec, "nodeName");
    if (isUnknown(node)) notes.add(`${P}.nodeName of ${who}`);
    else if (node !== undefined && node !== "")
      report(`${who}: ${P}.nodeName '${String(node)}' pins the agent to one node; every other node talks in the clear; remove it.`);
  }

  const containers = asArray(at(spec, "containers"));
  if (isUnknown(containers)) notes.add(`${P}.containers of ${who}`);
  else if (!partial || containers.some((c) => at(c, "securityContext") !== undefined)) {
    const caps = containers.flatMap((c) => {
      const a = asArray(at(c, "securityContext.capabilities.add"));
      return isUnknown(a) ? [a] : a;
    });
    const privileged = containers.some((c) => asBool(at(c, "securityContext.privileged")) === true);
    if (caps.some(isUnknown)) notes.add(`${P}.containers[].securityContext.capabilities.add of ${who}`);
    else if (!privileged && !caps.some((c) => c === "NET_ADMIN" || c === "CAP_NET_ADMIN")) {
      report(
        `${who}: no container in ${P}.containers adds NET_ADMIN in securityContext.capabilities.add; the agent cannot program routes without it; add NET_ADMIN.`,
      );
    }
  }

  if (has("tolerations")) {
    const tolList = asArray(at(spec, "tolerations"));
    if (isUnknown(tolList) || tolList.some(isUnknown)) notes.add(`${P}.tolerations of ${who}`);
    else {
      const ts = tolList as Toleration[];
      if (!tolerates(ts, limits.controlPlaneTaintKey, "NoSchedule")) {
        report(
          `${who}: ${P}.tolerations do not tolerate ${limits.controlPlaneTaintKey}:NoSchedule, so control-plane nodes get no agent and talk in the clear; add {key: ${limits.controlPlaneTaintKey}, operator: Exists, effect: NoSchedule}.`,
        );
      }
      if (!tolerates(ts, undefined, "NoExecute")) {
        report(
          `${who}: ${P}.tolerations do not tolerate every NoExecute taint (without tolerationSeconds), so the agent is evicted from tainted nodes; add {operator: Exists, effect: NoExecute}.`,
        );
      }
    }
  }

  const selector = asRecord(at(spec, "nodeSelector"));
  if (isUnknown(selector)) notes.add(`${P}.nodeSelector of ${who}`);
  else
    for (const [key, value] of Object.entries(selector)) {
      if (isUnknown(value)) {
        notes.add(`${P}.nodeSelector['${key}'] of ${who}`);
        continue;
      }
      if (!everyNodeMatches(key, "In", [String(value)], limits.nodeLabels)) {
        report(
          `${who}: ${P}.nodeSelector '${key}: ${String(value)}' restricts the agent to the nodes carrying it, not every ${describeNodes(limits)}; remove it.`,
        );
      }
    }
  const terms = asArray(at(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"));
  if (isUnknown(terms)) {
    notes.add(`${P}.affinity.nodeAffinity of ${who}`);
    return;
  }
  if (terms.length === 0) return;
  // Terms are ORed: the agent covers every node if one term matches every node.
  let undecided = false;
  const covers = terms.some((term) => {
    const exprs = asArray(at(term, "matchExpressions"));
    const fields = asArray(at(term, "matchFields"));
    if (isUnknown(exprs) || isUnknown(fields) || exprs.some(isUnknown)) {
      undecided = true;
      return false;
    }
    if (fields.length > 0) return false; // metadata.name picks nodes by name
    return exprs.every((e) => {
      const values = asArray(at(e, "values"));
      return !isUnknown(values) && everyNodeMatches(String(at(e, "key")), String(at(e, "operator")), values.map(String), limits.nodeLabels);
    });
  });
  if (covers) return;
  if (undecided) notes.add(`${P}.affinity.nodeAffinity of ${who}`);
  else
    report(
      `${who}: ${P}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution selects only some nodes (no term matches every ${describeNodes(limits)}); ` +
        "remove it (preferred affinity is fine).",
    );
}

function describeNodes(limits: PodLimits): string {
  return `node (${
    Object.entries(limits.nodeLabels)
      .map(([k, v]) => `${k}: ${v.join("|")}`)
      .join(", ") || "no label is known to be on every node"
  })`;
}
