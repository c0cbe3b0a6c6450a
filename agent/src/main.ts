// Entry point. `run` (default): keep this node's routing in line with the cluster.
// `uninstall`: remove every rule and route the agent owns, and the egress guard, nothing else.
// `guard apply|print`: install (or print) the egress guard from a node table file (guardCommand.ts).
// SIGTERM stops the agent and deliberately leaves the kernel state in place: the next
// instance adopts it, so a restart or upgrade never opens a gap.
import type { Server } from "node:http";
import { Controller } from "./controller";
import { GUARD_USAGE, runGuardCommand } from "./guardCommand";
import { runStatusCommand, STATUS_USAGE } from "./statusCommand";
import { NftGuard } from "./guardKernel";
import { NodeTableFile } from "./nodeTableFile";
import { startHttp } from "./http";
import type { ClusterSource } from "./informers";
import { Iproute2Kernel, ownershipFrom } from "./kernel";
import { createLogger, type Logger } from "./log";
import { Metrics } from "./metrics";
import { underlayDevices } from "./underlay";
import { WireGuardPeers } from "./wireguardPeers";
import { Reconciler, uninstall } from "./reconciler";
import { guardRuleset } from "./guard";
import { proxyConfigOf } from "./apiserverProxy";
import { loadStartTable, readPreviousNodes, TableStore } from "./tableStore";
import { OWNED_PRIORITY_SPAN, parseSettings, requireNodeName, SETTINGS, SettingsError, type Settings } from "./settings";

const USAGE = `usage: node main.js [run|uninstall] [--flag value ...]\n       node main.js ${GUARD_USAGE}\n       node main.js ${STATUS_USAGE}\n\n${Object.values(
  SETTINGS,
)
  .map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(36)} default ${JSON.stringify(s.default)}\n      ${s.help}`)
  .join("\n")}\n`;

async function runAgent(settings: Settings, log: Logger): Promise<void> {
  const nodeName = requireNodeName(settings);
  const metrics = new Metrics();
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN));
  const view: { source?: ClusterSource } = {};
  const tableError = (message: string) => {
    metrics.errors.inc({ kind: "node-table" });
    log.error(message);
  };
  // Node-table mode: the table is on the host before the API answers (tableStore.ts).
  const start = settings.nodeTable
    ? await loadStartTable({ configMap: settings.nodeTable, stateDir: settings.stateDir, bootTable: settings.bootNodeTable, localNodeName: nodeName })
    : undefined;
  // The ConfigMap file's own refusal is reported by its watcher below; the fallbacks' here.
  for (const r of start?.refused ?? []) if (r.source !== "config-map" && !r.unread) tableError(`${r.source} node table ${r.path} not used: ${r.message}`);
  if (start?.table)
    log.info({ source: start.source, path: start.path, nodes: start.table.nodes.length, podCidrs: start.table.podCidrs }, "node table in use from start");
  else if (start)
    log.error(
      { tried: start.refused },
      "no valid node table (ConfigMap file, persisted copy, boot table): changing nothing, the guard loaded at boot stays, until one is read",
    );
  const store = settings.nodeTable && settings.stateDir ? new TableStore(settings.stateDir, tableError) : undefined;
  const table = settings.nodeTable
    ? new NodeTableFile({
        path: settings.nodeTable,
        localNodeName: nodeName,
        initial: start?.table ? { table: start.table } : undefined,
        rereadMs: Math.min(settings.resyncSeconds * 1000, 30_000),
        onChange: (t) => {
          log.info({ nodes: t.nodes.length, podCidrs: t.podCidrs }, "node table read");
          controller.request("node-table");
        },
        onError: tableError,
      })
    : undefined;
  const guard = table ? new NftGuard() : undefined;
  if (guard) metrics.guardSource = () => guard.dropped();
  if (table) watchTableMetrics(metrics, table, nodeName, settings.device, log);
  if (!table)
    log.warn(
      "no node table (--node-table / NODE_ROUTER_NODE_TABLE): node identity comes from Node and CiliumNode objects and no egress guard is kept; use a table where the cluster's builder publishes one",
    );
  const wireguard = new WireGuardPeers();
  // The informers' objects by name, for delta steps (the informers start below).
  const lookup = { node: (name: string) => view.source?.lookup.node(name), ciliumNode: (name: string) => view.source?.lookup.ciliumNode(name) };
  const reconciler = new Reconciler(
    port,
    settings,
    nodeName,
    () => ({ nodes: view.source?.nodes() ?? [], ciliumNodes: view.source?.ciliumNodes() ?? [] }),
    table
      ? {
          nodeTable: () => table.current(),
          guard,
          localPodCidrs: store ? await store.readLocalPodCidrs() : undefined,
          seedPresent: await readPreviousNodes({ stateDir: settings.stateDir, bootTable: settings.bootNodeTable }),
          peers: () => wireguard.peers(settings.device),
          // What the boot unit loads next time: the guard just loaded, for the table and the nodes still held.
          // Rendered when the write runs, not in the step; table changes while one is queued coalesce.
          onGuarded: (g) =>
            void store?.saveGuardedLatest(() => ({
              table: g.table,
              departed: g.departed,
              guardScript: guardRuleset(g.input),
              proxyConfig: proxyConfigOf(g.table),
            })),
          onLocalPodCidrs: (podCidrs) => void store?.saveLocalPodCidrs(podCidrs),
          lookup,
          underlayDevices: () => underlayDevices(settings, table.current()?.nodes.find((n) => n.name === nodeName)?.addresses ?? []),
        }
      : { lookup },
  );
  const controller = new Controller(reconciler, metrics, log, { debounceMs: 200, resyncMs: settings.resyncSeconds * 1000, retryMs: 5000 });
  await table?.start();
  controller.start();
  // With a table the first step needs no API: guard and routes now, whatever the API does, and
  // before the API client, HTTP and the link monitor start competing with its ip and nft processes
  // for the CPU (bounded: a slow or failing step does not hold the rest of the start up).
  if (table) {
    controller.request("start", true, 0);
    await Promise.race([controller.whenIdle(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
  const servers: Server[] = await startHttp({ health: settings.healthAddress, metrics: settings.metricsAddress }, controller, metrics);
  const monitor = port.monitor({
    device: settings.device,
    onChange: () => controller.request("link", true),
    owned: { protocol: settings.routeProtocol, tables: [settings.steeringTable, settings.controlPlaneTable] },
    onOwnedDeleted: () => controller.request("owned-state-deleted", true),
    onError: (message) => {
      metrics.errors.inc({ kind: "link-monitor" });
      log.warn({ message }, "link monitor");
    },
  });
  // The API client's modules are loaded only now: with a table, after the first step began.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadKubeConfig, startInformers } = require("./informers") as typeof import("./informers");
  const informers = await startInformers(
    loadKubeConfig(settings.kubeconfig),
    {
      onChange: (name) => {
        reconciler.noteApiChange(name);
        controller.request("cluster");
      },
      onSynced: () => {
        log.info("cluster view complete; reconciling");
        reconciler.markSynced();
        controller.request("synced", true);
      },
    },
    log,
    metrics,
  );
  view.source = informers;
  log.info(
    {
      nodeName,
      device: settings.device,
      tables: [settings.steeringTable, settings.controlPlaneTable],
      priorities: `${settings.rulePriority}-${settings.rulePriority + OWNED_PRIORITY_SPAN - 1}`,
    },
    "node-router started",
  );

  const shutdown = async (signal: string) => {
    log.info({ signal }, "stopping; kernel state left in place for the next instance");
    controller.stop();
    monitor.stop();
    table?.stop();
    await store?.flush(); // a state file being written is finished (atomic anyway: old or new)
    await informers.stop();
    servers.forEach((s) => s.close());
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

/** node_router_table_nodes{,_without_peer}; the nodes without a peer and read failures are logged when they change. */
function watchTableMetrics(metrics: Metrics, table: NodeTableFile, nodeName: string, device: string, log: Logger): void {
  const peers = new WireGuardPeers();
  let last = "";
  const once = (key: string, write: () => void) => {
    if (key !== last) write();
    last = key;
  };
  metrics.watchTable({
    localNodeName: nodeName,
    table: () => table.current(),
    allowedIps: () => peers.allowedIps(device),
    peers: () => peers.peers(device),
    onWithoutPeer: (names) =>
      once(names.join(","), () => {
        if (names.length > 0)
          log.warn(
            { device, nodes: names.slice(0, 50), count: names.length },
            "node-table nodes without a WireGuard peer on the device: traffic to them is dropped",
          );
        else if (last !== "") log.info({ device }, "every node-table node has a WireGuard peer");
      }),
    onReadError: (message) => once(`error:${message}`, () => log.warn({ device, err: message }, "cannot read the WireGuard device's peers")),
  });
}

async function runUninstall(settings: Settings, log: Logger): Promise<number> {
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN));
  const { plan, errors, guardRemoved } = await uninstall(port, new NftGuard());
  log.info({ rules: plan.remove.rules.length, routes: plan.remove.routes.length, guardRemoved, failed: errors.length, errors }, "uninstalled");
  return errors.length === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "run";
  let rest = argv[0] === command ? argv.slice(1) : argv;
  const action = command === "guard" && rest[0] && !rest[0].startsWith("-") ? rest[0] : undefined;
  if (action) rest = rest.slice(1);
  // `status --json --probe N`: switches of the command, not settings.
  const json = command === "status" && rest.includes("--json");
  if (json) rest = rest.filter((a) => a !== "--json");
  const probeAt = command === "status" ? rest.indexOf("--probe") : -1;
  let probe: number | undefined;
  if (probeAt >= 0) {
    probe = Number(rest[probeAt + 1]);
    if (!Number.isInteger(probe) || probe < 1) {
      process.stderr.write(`node-router: --probe: ${JSON.stringify(rest[probeAt + 1] ?? "")} is not a number of nodes >= 1 (e.g. --probe 3)\n`);
      return 2;
    }
    rest = [...rest.slice(0, probeAt), ...rest.slice(probeAt + 2)];
  }
  if (rest.includes("--help") || rest.includes("-h") || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  let settings: Settings;
  try {
    settings = parseSettings(rest, process.env);
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    process.stderr.write(`node-router: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const log = createLogger(settings.logLevel);
  if (command === "uninstall") return runUninstall(settings, log);
  if (command === "status") {
    try {
      return await runStatusCommand(settings, json, probe);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      process.stderr.write(`node-router: ${e.message}\n`);
      return 2;
    }
  }
  if (command === "guard") {
    try {
      return await runGuardCommand(action, settings, log);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      process.stderr.write(`node-router: ${e.message}\n`);
      return 2;
    }
  }
  if (command !== "run") {
    process.stderr.write(`node-router: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    await runAgent(settings, log);
  } catch (e) {
    if (e instanceof SettingsError) {
      process.stderr.write(`node-router: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return -1; // keeps running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: Error) => {
    process.stderr.write(`node-router: fatal: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
