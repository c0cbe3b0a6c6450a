// What the node-router DaemonSet (../nodeRouter/) and the boot files (../cluster/bootstrap/)
// must agree on about the agent, so that the guard loaded at boot and the agent's are rendered
// from the same settings.

/**
 * Agent settings the boot-time guard is rendered with, by the agent's own names (agent/src/settings.ts)
 * and as the agent reads them (e.g. `{ device: "cilium_wg0", wgMark: "0xe00", exemptPorts: "6443,2379-2380" }`):
 * the DaemonSet's values; a setting not listed keeps the agent's default, as in the DaemonSet. Open-ended
 * on purpose: the agent's parser (../cluster/bootstrap/bootGuard.ts) checks every name and value, so a setting the agent
 * gains needs no change here.
 */
export type GuardSettings = Readonly<Record<string, string>>;
