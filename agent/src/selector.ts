// A small subset of Kubernetes equality-based label selectors, enough to recognise
// control-plane nodes: `key` (exists, any value - kubeadm sets an empty value),
// `key=value` / `key==value`, `key!=value` and `!key`, joined by commas (all must hold).

export type Requirement =
  | { op: "exists"; key: string }
  | { op: "absent"; key: string }
  | { op: "equals"; key: string; value: string }
  | { op: "notEquals"; key: string; value: string };

export interface LabelSelector {
  text: string;
  requirements: Requirement[];
}

// Label keys: optional DNS prefix "/" name; values may be empty.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export function parseSelector(text: string): LabelSelector {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) {
    throw new Error(`empty selector: give a label key such as node-role.kubernetes.io/control-plane`);
  }
  const requirements = parts.map((part): Requirement => {
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(part);
    if (!m || (m[1] && m[3])) {
      throw new Error(`"${part}" is not key, key=value, key!=value or !key`);
    }
    const key = m[2].trim();
    if (!KEY.test(key)) throw new Error(`"${key}" is not a valid label key`);
    if (m[1]) return { op: "absent", key };
    if (!m[3]) return { op: "exists", key };
    const value = (m[4] ?? "").trim();
    if (!VALUE.test(value)) throw new Error(`"${value}" is not a valid label value`);
    return m[3] === "!=" ? { op: "notEquals", key, value } : { op: "equals", key, value };
  });
  return { text, requirements };
}

export function matchesSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "absent":
        return !has;
      case "equals":
        return has && l[r.key] === r.value;
      case "notEquals":
        return !has || l[r.key] !== r.value;
    }
  });
}
