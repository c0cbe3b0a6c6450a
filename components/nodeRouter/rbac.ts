// Least-privilege identity of the agent: it only reads Nodes (addresses, labels,
// spec.podCIDRs) and CiliumNodes (pod CIDRs and addresses under cluster-pool IPAM).
// No write verbs, no Secrets, nothing namespaced.

export const APP_NAME = "node-router";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ_VERBS = ["get", "list", "watch"];

/** Labels shared by every object of the component. */
export function commonLabels(): Record<string, string> {
  return { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/component": "node-routing", "app.kubernetes.io/part-of": "wg-mesh" };
}

export function serviceAccount(name: string, namespace: string) {
  return { apiVersion: "v1" as const, kind: "ServiceAccount" as const, metadata: { name, namespace, labels: commonLabels() } };
}

export function clusterRoleRules(): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["nodes"], verbs: [...READ_VERBS] },
    { apiGroups: ["cilium.io"], resources: ["ciliumnodes"], verbs: [...READ_VERBS] },
  ];
}

export function clusterRole(name: string) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1" as const,
    kind: "ClusterRole" as const,
    metadata: { name, labels: commonLabels() },
    rules: clusterRoleRules(),
  };
}

export function clusterRoleBinding(name: string, roleName: string, serviceAccountName: string, namespace: string) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1" as const,
    kind: "ClusterRoleBinding" as const,
    metadata: { name, labels: commonLabels() },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
    subjects: [{ kind: "ServiceAccount", name: serviceAccountName, namespace }],
  };
}

/**
 * A dedicated namespace (only when not kube-system). hostNetwork and NET_ADMIN are outside
 * the Pod Security "baseline" level, so it must say `privileged` explicitly.
 */
export function namespaceObject(name: string) {
  return {
    apiVersion: "v1" as const,
    kind: "Namespace" as const,
    metadata: {
      name,
      labels: { ...commonLabels(), "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "privileged" },
    },
  };
}
