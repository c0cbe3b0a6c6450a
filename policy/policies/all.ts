// Every policy of the pack, in the order of the items.
import type { Policies } from "@pulumi/policy";
import { ciliumHostLegacyRouting } from "./cilium-host-legacy-routing";
import { ciliumNativeRouting } from "./cilium-native-routing";
import { ciliumRequiredWithNodes } from "./cilium-required-with-nodes";
import { ciliumStrictMode } from "./cilium-strict-mode";
import { ciliumWireguardEncryption } from "./cilium-wireguard-encryption";
import { nativeRoutingCidrCoversPods } from "./native-routing-cidr-covers-pods";
import { nodeRouterDaemonSet } from "./node-router-daemonset";
import { nodeRouterPresent } from "./node-router-present";
import { noLongLivedJoinToken } from "./no-long-lived-join-token";
import { underlayFirewallRules } from "./underlay-firewall-rules";
import { wireguardKeepalive } from "./wireguard-keepalive";
import { wireguardPortBetweenPools } from "./wireguard-port-between-pools";

export const policies: Policies = [
  ciliumWireguardEncryption, ciliumRequiredWithNodes,
  ciliumNativeRouting, nativeRoutingCidrCoversPods,
  nodeRouterDaemonSet, nodeRouterPresent, ciliumHostLegacyRouting,
  underlayFirewallRules, wireguardPortBetweenPools,
  ciliumStrictMode,
  wireguardKeepalive,
  noLongLivedJoinToken,
];
