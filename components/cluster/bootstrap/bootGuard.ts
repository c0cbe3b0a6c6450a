// The egress guard as a node loads it at boot, rendered by the program: the agent's own renderer
// (agent/src/guard.ts, the one `guard print` and the agent use: imported, never copied), given the
// node table, this node's name, and the DaemonSet's settings parsed by the agent's own parser (a
// setting the agent gains flows through without a change here). In two parts: the node's ruleset
// without node addresses (its user data; a size that does not grow with the cluster) and every
// node's address (one document for the whole cluster, in the secret store the join secrets use,
// which takes 64 KiB where EC2's user data takes 16). The bootstrap fetches the addresses before it
// starts the guard; guard.sh loads both with the host's nft, before containerd and the kubelet.
import { gunzipSync, gzipSync } from "node:zlib";
import { GUARD_TABLE_REFS, guardElements, guardElementStatements, guardShape, type GuardInput } from "../../../agent/src/guard";
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

/** Where the bootstrap writes the node addresses it read from the store; guard.sh appends them to GUARD_BOOT_RULESET_FILE. */
export const GUARD_BOOT_NODES_FILE = "/etc/wg-mesh/guard-nodes.nft";

/**
 * The nft script for GUARD_BOOT_RULESET_FILE: this node's guard without a single node address
 * (guardShape: chains, ports, marks, pod CIDRs, its role), so its size does not grow with the
 * cluster and EC2's 16 KiB of user data hold it at any size. Parametric in $UNDERLAY, which
 * guard.sh passes with `nft -D`. The node addresses come from the store (bootGuardNodes), which
 * guard.sh appends; it refuses to load this file without them. Every later boot loads the ruleset
 * the agent persisted instead (guard.sh takes the newer), which also holds private addresses.
 */
export function bootGuardRuleset(b: BootGuardInput): string {
  return guardShape(bootGuardInput(b.nodeTable, b.nodeName, b.guard));
}

/** The statements' header: guard.sh checks the count (a truncated document is refused). */
const nodesHeader = (count: number) => `# node-router boot guard: node addresses, ${count} statements`;

/**
 * The store document (GUARD_BOOT_NODES_FILE once fetched): every node's first address (its static
 * public one, the InternalIP every other node's traffic goes to), each an `add element` statement
 * in both of the guard's tables, one per line, with a header giving their number. The same for
 * every node: each drops the lines of its own address when it loads them (guard.sh). A node's
 * private (VPC) address is reachable only inside its own network and no boot step of another node
 * sends to it; the agent's guard covers it from its first start, and every later boot.
 */
export function bootGuardNodes(nodeTable: string, guard: GuardSettings): string {
  const statements = guardElementStatements(guardElements(bootGuardInput(nodeTable, "", guard)), GUARD_TABLE_REFS[0]);
  return [nodesHeader(statements.length), ...statements, ""].join("\n");
}

/** AWS Secrets Manager and GCP Secret Manager both hold at most 64 KiB in one secret value. */
export const SECRET_VALUE_LIMIT = 64 * 1024;

/**
 * bootGuardNodes as stored: gzip, then base64 (the statements repeat all but their address: about
 * 8 bytes a node with scattered public addresses, so 5,000 nodes fit). Throws, naming the limit, past what one secret holds.
 */
export function packBootGuardNodes(document: string): string {
  const packed = gzipSync(Buffer.from(document, "utf8"), { level: 9 }).toString("base64");
  const nodes = (document.match(/ nodes[46] \{ /g) ?? []).length;
  if (packed.length > SECRET_VALUE_LIMIT) {
    throw new Error(
      `the boot guard's node addresses take ${packed.length} bytes packed for ${nodes} node addresses, over the ${SECRET_VALUE_LIMIT} one secret holds; use fewer nodes`,
    );
  }
  return packed;
}

/** The inverse of packBootGuardNodes (tests; the node runs `base64 -d | gunzip`). */
export const unpackBootGuardNodes = (packed: string): string => gunzipSync(Buffer.from(packed, "base64")).toString("utf8");

/** The agent's guard input for the boot files: every node's first address, the settings as the DaemonSet's. */
function bootGuardInput(nodeTable: string, localNodeName: string, guard: GuardSettings): GuardInput {
  const table = parseNodeTable(nodeTable);
  const nodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses.slice(0, 1), controlPlane: n.role === "control-plane" }));
  return { localNodeName, nodes, podCidrs: table.podCidrs, settings: guardAgentSettings(guard) };
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
