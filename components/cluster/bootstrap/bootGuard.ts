// The egress guard as a node loads it at boot, rendered by the program: the agent's own renderer
// (agent/src/guard.ts, the one `guard print` and the agent use: imported, never copied), given the
// node table of the boot files, this node's name, and the DaemonSet's settings parsed by the
// agent's own parser (a setting the agent gains flows through without a change here). The node
// then needs no image, no registry and no network to guard itself: guard.sh loads the file with
// the host's nft, before containerd and the kubelet start.
import { guardRuleset } from "../../../agent/src/guard";
import { parseNodeTable } from "../../../agent/src/nodeTable";
import { parseSettings, SETTINGS, type Settings } from "../../../agent/src/settings";
import type { GuardSettings } from "./types";

/** The ruleset the program renders into the boot files. */
export const GUARD_BOOT_RULESET_FILE = "/etc/wg-mesh/guard.nft";
/** The ruleset the agent persists from every good table it reads (its state directory); guard.sh loads the newer of the two. */
export const GUARD_STATE_RULESET_FILE = "/var/lib/wg-mesh/guard.nft";

/**
 * The agent's settings as the DaemonSet runs it: `guard` (the DaemonSet's values, by the agent's
 * own names, as the agent reads them) passed as flags to the agent's parser, the agent's defaults
 * for the rest. Throws naming the setting and the fix.
 */
export function guardAgentSettings(guard: GuardSettings): Settings {
  const flags = Object.entries(guard).map(([name, value]) => {
    const setting = (SETTINGS as Record<string, { flag: string } | undefined>)[name];
    if (!setting) throw new Error(`guard.${name} is not a setting of the node-router agent (agent/src/settings.ts); remove it or use the agent's name for it`);
    return `--${setting.flag}=${value}`;
  });
  // No environment: the program's own must not leak into what every node loads.
  return parseSettings(flags, {});
}

/** What renders one node's boot ruleset. */
export interface BootGuardInput {
  readonly nodeName: string;
  /** The node table document (JSON, ../nodeTable.ts). */
  readonly nodeTable: string;
  readonly guard: GuardSettings;
}

/**
 * The nft script for GUARD_BOOT_RULESET_FILE: parametric in $UNDERLAY, which guard.sh passes with
 * `nft -D`. It guards every node's first address (its static public one, the InternalIP the kubelet
 * and the agent use, which every other node's traffic goes to): EC2's 16 KiB of user data hold
 * that for 300 nodes, and every address for only 200 (../nodeTable.ts MAX_NODES). A node's private
 * (VPC) address is reachable only inside its own network and no boot step of another node sends to
 * it; the agent's guard covers it from its first start, and so does every later boot, which loads
 * the ruleset the agent persisted (guard.sh takes the newer).
 */
export function bootGuardRuleset(b: BootGuardInput): string {
  const table = parseNodeTable(b.nodeTable);
  const nodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses.slice(0, 1), controlPlane: n.role === "control-plane" }));
  return guardRuleset({ localNodeName: b.nodeName, nodes, podCidrs: table.podCidrs, settings: guardAgentSettings(b.guard) });
}

/**
 * The explicit underlay devices, comma-joined ("" = guard.sh detects them). The agent setting
 * `underlayDevices` comes with issue 21's guard; read by name so this compiles with or without it.
 */
function underlayDevices(settings: Settings): string {
  const value = (settings as unknown as Record<string, unknown>).underlayDevices;
  return Array.isArray(value) ? value.join(",") : typeof value === "string" ? value : "";
}

/** What guard.sh reads from the env file: what it must leave out of the underlay, or the underlay itself. */
export function guardEnv(guard: GuardSettings): Record<string, string> {
  const settings = guardAgentSettings(guard);
  return {
    GUARD_DEVICE: settings.device,
    GUARD_LOCAL_INTERFACES: settings.localInterfaces.join(","),
    GUARD_UNDERLAY_DEVICES: underlayDevices(settings),
  };
}
