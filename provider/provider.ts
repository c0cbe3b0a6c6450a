// The provider the package serves: the component provider that @pulumi/pulumi ships (its
// analyzer derives the schema from the classes' Args and members; its Construct builds
// them), plus the secret markings the analyzer cannot express.
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { Cluster } from "../components/cluster/cluster";
import { Cilium } from "../components/cilium/cilium";
import { NodeRouter } from "../components/nodeRouter/nodeRouter";
import { markSecretOutputs, type SecretOutputs } from "./secrets";

/** Package name: schema tokens are `wg-mesh:index:<Class>` (the host serves module `index` only). */
export const PACKAGE_NAME = "wg-mesh";

/** What a user composes: the cluster, and the two parts that run on it. */
export const COMPONENTS = [Cluster, Cilium, NodeRouter];

/** Outputs that carry credentials. */
export const SECRET_OUTPUTS: SecretOutputs = { Cluster: ["kubeconfig", "joinToken"] };

export class WgMeshProvider extends ComponentProvider {
  constructor(dirname: string) {
    super({ name: PACKAGE_NAME, dirname, components: COMPONENTS });
  }

  override async getSchema(): Promise<string> {
    return markSecretOutputs(await super.getSchema(), SECRET_OUTPUTS);
  }
}
