// Settings -> the agent container's environment, named from the agent's own settings table
// (agent/src/settings.ts): a renamed setting or variable in the agent breaks the type check
// here instead of silently leaving the agent on its defaults in production.
import { SETTINGS } from "../../agent/src/settings";
import type { DeployedAgent, DeployedSetting } from "./settings";

/** Kubernetes EnvVar (plain object, as in core/v1). */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef: { readonly fieldPath: string } };
}

/** NODE_NAME from the downward API, then every deployed setting as its agent env var, and the node table file. */
export function agentEnv(agent: DeployedAgent, nodeTableFile?: string): EnvVar[] {
  const { values } = agent;
  return [
    { name: SETTINGS.nodeName.env, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ...(Object.keys(values) as DeployedSetting[]).map((key) => ({ name: SETTINGS[key].env, value: values[key] })),
    ...(nodeTableFile ? [{ name: SETTINGS.nodeTable.env, value: nodeTableFile }] : []),
  ];
}
