// Builders for Kubernetes-shaped test objects (only the fields the agent reads).
import { parseSettings, type Settings } from "../src/settings";

export function settings(overrides: Record<string, string> = {}): Settings {
  return parseSettings([], { NODE_NAME: "local", ...overrides });
}

export interface NodeSpec {
  name: string;
  internal?: string[];
  external?: string[];
  podCidrs?: string[];
  labels?: Record<string, string>;
}

export function node(spec: NodeSpec): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: spec.name, labels: spec.labels ?? {} },
    spec: spec.podCidrs ? { podCIDRs: spec.podCidrs } : {},
    status: {
      addresses: [
        ...(spec.internal ?? []).map((address) => ({ type: "InternalIP", address })),
        ...(spec.external ?? []).map((address) => ({ type: "ExternalIP", address })),
        { type: "Hostname", address: spec.name },
      ],
    },
  };
}

export function ciliumNode(name: string, podCidrs: string[], addresses: { type: string; ip: string }[] = []): Record<string, unknown> {
  return { apiVersion: "cilium.io/v2", kind: "CiliumNode", metadata: { name }, spec: { addresses, ipam: { podCIDRs: podCidrs } } };
}

export const CP_LABEL = { "node-role.kubernetes.io/control-plane": "" };
