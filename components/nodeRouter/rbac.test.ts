import { clusterRole, clusterRoleBinding, namespaceObject, serviceAccount } from "./rbac";

describe("RBAC", () => {
  const role = clusterRole("node-router");

  test("read-only: exactly get, list and watch on every rule, no wildcards", () => {
    expect(role.rules.length).toBe(2);
    for (const rule of role.rules) {
      expect([...rule.verbs].sort()).toEqual(["get", "list", "watch"]);
      expect([...rule.verbs, ...rule.resources, ...rule.apiGroups]).not.toContain("*");
    }
  });

  test("exactly nodes and ciliumnodes.cilium.io; no secrets", () => {
    const granted = role.rules.flatMap((rule) => rule.resources.map((resource) => `${resource}.${rule.apiGroups.join(",")}`));
    expect(granted.sort()).toEqual(["ciliumnodes.cilium.io", "nodes."]);
    expect(granted.some((g) => g.startsWith("secrets"))).toBe(false);
  });

  test("binding ties the role to the agent's ServiceAccount", () => {
    const sa = serviceAccount("node-router", "kube-system");
    const binding = clusterRoleBinding("node-router", role.metadata.name, sa.metadata.name, sa.metadata.namespace);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "node-router" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "node-router", namespace: "kube-system" }]);
  });

  test("a dedicated namespace declares Pod Security privileged (hostNetwork + NET_ADMIN)", () => {
    expect(namespaceObject("wg-mesh-system").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
  });
});
