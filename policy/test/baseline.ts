// Fresh copies of the hand-written compliant stack for unit tests (one change per failing case).
import { join } from "node:path";
import { type FixtureResource, loadStack } from "./fixtures/load";

const STACK = loadStack(join(__dirname, "fixtures", "stacks", "handwritten.json"));

export function baseline(): FixtureResource[] {
  return structuredClone(STACK);
}

export function get(stack: FixtureResource[], name: string): FixtureResource {
  const r = stack.find((x) => x.name === name);
  if (!r) throw new Error(`baseline has no resource named ${name}`);
  return r;
}

/** The WireGuard rule (UDP 51871) of the hand-written stack's AWS group `sg`: its first inline rule. */
export function awsWireguard(stack: FixtureResource[], sg: "wgmesh-control-plane" | "wgmesh-worker"): Record<string, unknown> {
  return (get(stack, sg).props.ingress as Array<Record<string, unknown>>)[0];
}

/**
 * The hand-written stack in the large-cluster mode (wg-mesh-cluster's cluster.wireguardFrom:
 * anywhere), as the program renders it: every node admits UDP 51871 from 0.0.0.0/0 in a rule that
 * admits nothing else (AWS: each group's WireGuard rule; GCP: the WireGuard allows move out of the
 * role firewalls into a firewall of their own); 6443 and etcd keep their per-node sources.
 */
export function largeClusterBaseline(): FixtureResource[] {
  const s = baseline();
  for (const sg of ["wgmesh-control-plane", "wgmesh-worker"] as const) awsWireguard(s, sg).cidrBlocks = ["0.0.0.0/0"];
  for (const fw of ["wgmesh-gcp-control-plane", "wgmesh-gcp-worker"]) {
    const props = get(s, fw).props;
    props.allows = (props.allows as Array<Record<string, unknown>>).filter((a) => a.protocol !== "udp");
  }
  const type = "gcp:compute/firewall:Firewall";
  s.push({
    type,
    name: "wgmesh-gcp-wireguard",
    urn: `urn:pulumi:dev::wg-mesh-cluster::${type}::wgmesh-gcp-wireguard`,
    props: {
      network: "wgmesh",
      direction: "INGRESS",
      targetTags: ["wgmesh-control-plane", "wgmesh-worker"],
      sourceRanges: ["0.0.0.0/0"],
      allows: [{ protocol: "udp", ports: ["51871"] }],
    },
  });
  return s;
}

/** Props of the Cilium Helm release's values. */
export function ciliumValues(stack: FixtureResource[]): any {
  return get(stack, "cilium").props.values;
}

/** The node-router pod spec. */
export function agentPodSpec(stack: FixtureResource[]): any {
  return (get(stack, "node-router").props as any).spec.template.spec;
}

export function ciliumConfigMap(data: Record<string, unknown>, name = "cilium-config"): FixtureResource {
  return {
    type: "kubernetes:core/v1:ConfigMap",
    name: `kube-system/${name}`,
    urn: `urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::kube-system/${name}`,
    props: { metadata: { name, namespace: "kube-system" }, data },
  };
}

export const COMPLIANT_CM = {
  "routing-mode": "native",
  "ipv4-native-routing-cidr": "10.244.0.0/16",
  "enable-wireguard": "true",
  "encrypt-node": "false",
  "enable-host-legacy-routing": "true",
  "enable-encryption-strict-mode": "true",
  "encryption-strict-mode-cidr": "10.244.0.0/16",
  "wireguard-persistent-keepalive": "25s",
  "cluster-pool-ipv4-cidr": "10.244.0.0/16",
};
