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
