// Every policy of the pack: Cilium, the node-router agent, the underlay firewalls.
import type { Policies } from "@pulumi/policy";
import { apiServerNotPublic } from "./api-server-not-public";
import { ciliumChartOrigin } from "./cilium-chart-origin";
import { ciliumHostLegacyRouting } from "./cilium-host-legacy-routing";
import { ciliumNativeRouting } from "./cilium-native-routing";
import { ciliumNoXdpAcceleration } from "./cilium-no-xdp-acceleration";
import { ciliumRequiredWithNodes } from "./cilium-required-with-nodes";
import { ciliumStrictMode } from "./cilium-strict-mode";
import { ciliumValuesReadable } from "./cilium-values-readable";
import { ciliumVersionFloor } from "./cilium-version-floor";
import { ciliumValuesTypes } from "./cilium-values-types";
import { ciliumWireguardEncryption } from "./cilium-wireguard-encryption";
import { etcdFromControlPlaneOnly } from "./etcd-from-control-plane-only";
import { helmPostrenderForbidden } from "./helm-postrender-forbidden";
import { nativeRoutingCidrCoversPods } from "./native-routing-cidr-covers-pods";
import { nodeRouterCommand } from "./node-router-command";
import { nodeRouterDaemonSet } from "./node-router-daemonset";
import { nodeRouterHardening } from "./node-router-hardening";
import { nodeRouterIndirectSettings } from "./node-router-indirect-settings";
import { nodeRouterNodeTable } from "./node-router-node-table";
import { nodeRouterPresent } from "./node-router-present";
import { noLongLivedJoinToken } from "./no-long-lived-join-token";
import { nodesNotInDefaultNetwork } from "./nodes-not-in-default-network";
import { nodeRouterToleratesNodeTaints } from "./node-router-tolerates-node-taints";
import { underlayFirewallRules } from "./underlay-firewall-rules";
import { wireguardKeepalive } from "./wireguard-keepalive";
import { wireguardPortBetweenPools } from "./wireguard-port-between-pools";
import { wireguardPortFromNodesOnly } from "./wireguard-port-from-nodes-only";

export const policies: Policies = [
  // Cilium encrypts pod traffic with WireGuard, natively routed, with no override undoing it.
  ciliumWireguardEncryption,
  ciliumRequiredWithNodes,
  ciliumNativeRouting,
  nativeRoutingCidrCoversPods,
  ciliumHostLegacyRouting,
  ciliumNoXdpAcceleration,
  helmPostrenderForbidden,
  ciliumValuesReadable,
  ciliumChartOrigin,
  ciliumVersionFloor,
  ciliumStrictMode,
  ciliumValuesTypes,
  wireguardKeepalive,
  // The node-router agent steers node traffic into WireGuard on every node.
  nodeRouterPresent,
  nodeRouterDaemonSet,
  nodeRouterCommand,
  nodeRouterIndirectSettings,
  nodeRouterNodeTable,
  nodeRouterToleratesNodeTaints,
  nodeRouterHardening,
  // The underlay admits nothing in the clear between nodes, and WireGuard between all of them.
  underlayFirewallRules,
  nodesNotInDefaultNetwork,
  etcdFromControlPlaneOnly,
  apiServerNotPublic,
  wireguardPortBetweenPools,
  wireguardPortFromNodesOnly,
  // No long-lived join credential where it can be read.
  noLongLivedJoinToken,
];
