// What the program's Kubernetes resources share about their lifecycle: they live inside the
// cluster, so they go when it goes. `deletedWith` the cluster's readiness resource means:
// when that resource is deleted (the cluster is destroyed, or replaced by a new, empty
// one), Pulumi does not call Delete on them. A destroy then needs no API; and when a new
// cluster replaces the old one at the same address with the same credentials, the
// provider's replacement re-creates every object in it without a "delete" of the old
// object that would land in, and remove from, the new cluster.
import * as pulumi from "@pulumi/pulumi";

export function livesInCluster(cluster: pulumi.Resource): pulumi.ComponentResourceOptions {
  return {
    transformations: [
      (args) => (args.type.startsWith("kubernetes:") ? { props: args.props, opts: pulumi.mergeOptions(args.opts, { deletedWith: cluster }) } : undefined),
    ],
  };
}
