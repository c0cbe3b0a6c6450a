// A node's cloud-init user data: the cluster's share of the boot files (addresses, PKI
// certificate, node table, agent) and the node's own (name, role, address, where it reads its
// secrets). No credential in it (the stack tests check): names, addresses, versions, the public
// CA certificate and where the node reads its secrets. Plain, so previews show it. The pools
// (../core/pool.ts) call it through NodePoolArgs.userData.
import * as pulumi from "@pulumi/pulumi";
import type { NodeSecrets } from "../core/pool";
import type { NodeSpec } from "../core/nodes";
import { renderCloudInit } from "./bootstrap/cloudInit";
import type { ClusterBootstrap } from "./bootstrap/types";

export function nodeUserData(
  bootstrap: pulumi.Output<ClusterBootstrap>,
  nodeIp: pulumi.Output<string>,
  /** The node that may run `kubeadm init` (the founder, unless it is rebuilt while other control planes exist). */
  initNode: string | undefined,
  node: NodeSpec,
  secrets: NodeSecrets,
): pulumi.Output<string> {
  return pulumi.all([bootstrap, nodeIp]).apply(([shared, ip]) =>
    renderCloudInit({
      ...shared,
      nodeName: node.name,
      cloud: node.cloud,
      role: node.role,
      mayInit: node.name === initNode,
      nodeIp: ip,
      pkiSecret: secrets.pki,
      joinTokenSecret: secrets.joinToken,
      bootGuardSecret: secrets.bootGuard,
    }),
  );
}
