// Grows a stack to N resources the way a big cluster grows: more nodes (copies of its instances,
// attached to the same firewalls), more per-node WireGuard rules and more ordinary Kubernetes
// objects, while the cluster-wide resources (Cilium, agent, security groups) stay single.
import type { FixtureResource } from "./fixtures/load";

const GROWS = /Instance$|^kubernetes:core\/v1:ConfigMap$|securityGroupRule|securityGroupIngressRule/;

export function scaleStack(stack: readonly FixtureResource[], size: number): FixtureResource[] {
  const out = structuredClone([...stack]);
  const templates = stack.filter((r) => GROWS.test(r.type));
  templates.push({
    type: "kubernetes:core/v1:ConfigMap", name: "app-settings", urn: "urn:pulumi:dev::wg-mesh-cluster::kubernetes:core/v1:ConfigMap::app-settings",
    props: { metadata: { name: "app-settings", namespace: "default" }, data: { LOG_LEVEL: "info" } },
  });
  for (let i = 0; out.length < size; i++) {
    const t = templates[i % templates.length];
    const name = `${t.name}-${i}`;
    out.push({ ...structuredClone(t), name, urn: t.urn.replace(/::[^:]+$/, `::${name}`) });
  }
  return out;
}
