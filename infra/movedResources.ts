// Resources that moved between releases keep their state: without an alias Pulumi would see a
// new resource and delete the old one. The Kubernetes provider above all: a new provider URN
// would replace every Kubernetes resource of the stack (Cilium included).
//
// Moved when the Cluster began to publish in the cluster itself (components/cluster/publish.ts):
// the program's Kubernetes provider and join-token Secret (children of the stack before), and the
// node table ConfigMap (a child of the NodeRouter before).
import * as pulumi from "@pulumi/pulumi";

/** The Cluster's transformation that gives its published children the aliases of where they were. */
export function keepStateOfPublished(name: string): pulumi.ResourceTransformation {
  const nodeRouterUrn = pulumi.createUrn(`${name}-node-router`, "wg-mesh:nodeRouter:NodeRouter");
  const before: Record<string, pulumi.Alias> = {
    [`pulumi:providers:kubernetes::${name}-k8s`]: { parent: pulumi.rootStackResource },
    [`kubernetes:core/v1:Secret::${name}-join-token`]: { parent: pulumi.rootStackResource },
    [`kubernetes:core/v1:ConfigMap::${name}-node-table`]: { name: `${name}-node-router-node-table`, parent: nodeRouterUrn },
  };
  return (args) => {
    const alias = before[`${args.type}::${args.name}`];
    return alias ? { props: args.props, opts: pulumi.mergeOptions(args.opts, { aliases: [alias] }) } : undefined;
  };
}
