// `main.js guard apply|print --node-table FILE --node-name NAME [...]`: installs (or prints) the
// egress guard from a table file, with no API and no agent. `print` writes the script parametric
// in $UNDERLAY, exactly what the program ships and the agent persists; `apply` loads it for the
// underlay devices it detects (underlay.ts) unless --underlay-devices names them.
import { readFileSync } from "node:fs";
import { guardRuleset } from "./guard";
import { NftGuard } from "./guardKernel";
import type { Logger } from "./log";
import { NodeTableError, parseNodeTable } from "./nodeTable";
import { requireNodeName, SettingsError, type Settings } from "./settings";
import { UnderlayError, underlayDevices } from "./underlay";

export const GUARD_USAGE =
  "guard apply|print --node-table FILE --node-name NAME [--underlay-devices --device --wg-mark --wg-mask --wg-port --exempt-ports --exempt-reply-mark --metadata-addresses --metadata-cgroups --local-interfaces]";

/** Exit code: 0 done, 1 nft refused, 2 bad settings or table. */
export async function runGuardCommand(action: string | undefined, settings: Settings, log: Logger): Promise<number> {
  if (action !== "apply" && action !== "print") throw new SettingsError(`guard needs an action: ${GUARD_USAGE}`);
  const nodeName = requireNodeName(settings);
  if (!settings.nodeTable) throw new SettingsError(`--node-table / NODE_ROUTER_NODE_TABLE is empty: the guard is built from the node table file`);
  let table;
  try {
    table = parseNodeTable(readFileSync(settings.nodeTable, "utf8"));
  } catch (e) {
    if (e instanceof NodeTableError || (e as NodeJS.ErrnoException).code) throw new SettingsError(`node table ${settings.nodeTable}: ${(e as Error).message}`);
    throw e;
  }
  const local = table.nodes.find((n) => n.name === nodeName);
  if (!local)
    log.warn(
      { nodeName, nodeTable: settings.nodeTable },
      "this node is not in the node table: guarding every listed node, without control-plane reply exemptions",
    );
  const nodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses, controlPlane: n.role === "control-plane" }));
  const script = guardRuleset({ localNodeName: nodeName, nodes, podCidrs: table.podCidrs, settings });
  if (action === "print") {
    process.stdout.write(script);
    return 0;
  }
  let underlay: string[];
  try {
    underlay = await underlayDevices(settings, local?.addresses ?? []);
  } catch (e) {
    if (e instanceof UnderlayError) throw new SettingsError(e.message);
    throw e;
  }
  try {
    await new NftGuard().apply(script, underlay);
  } catch (e) {
    log.error({ err: (e as Error).message }, "guard not applied");
    return 1;
  }
  log.info({ nodeName, nodes: table.nodes.length, podCidrs: table.podCidrs, underlay }, "egress guard applied");
  return 0;
}
