// Builders for Kubernetes-shaped test objects (only the fields the agent reads), and a kernel
// state that plans are applied to.
import { parseSettings, type Settings } from "../src/settings";
import { ruleKey, RouteSet, sameSlot } from "../src/diff";
import type { KernelState, Plan } from "../src/model";

export function settings(overrides: Record<string, string> = {}): Settings {
  return parseSettings([], { NODE_NAME: "local", NODE_ROUTER_UNDERLAY_DEVICES: "underlay0", ...overrides });
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

/** Applies a plan to a state snapshot, as the kernel does: what a clean apply leaves. */
export function applyPlanTo(state: KernelState, plan: Plan): KernelState {
  const removedRules = new Set(plan.remove.rules.map(ruleKey));
  const gone = new RouteSet(plan.remove.routes);
  const replaced = new RouteSet(plan.add.routes, sameSlot);
  return {
    rules: [...state.rules.filter((r) => !removedRules.has(ruleKey(r))), ...plan.add.rules],
    routes: [...state.routes.filter((r) => !gone.has(r) && !replaced.has(r)), ...plan.add.routes],
  };
}

/** mulberry32: a small seeded generator for property tests, so a failure names the seed that reproduces it. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
