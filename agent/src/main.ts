// Entry point. `run` (default): keep this node's routing in line with the cluster.
// `uninstall`: remove every rule and route the agent owns, nothing else.
// SIGTERM stops the agent and deliberately leaves the kernel state in place: the next
// instance adopts it, so a restart or upgrade never opens a gap.
import type { Server } from "node:http";
import { Controller } from "./controller";
import { startHttp } from "./http";
import { loadKubeConfig, startInformers, type ClusterSource } from "./informers";
import { Iproute2Kernel, ownershipFrom } from "./kernel";
import { startLinkMonitor } from "./linkMonitor";
import { createLogger, type Logger } from "./log";
import { Metrics } from "./metrics";
import { Reconciler, uninstall } from "./reconciler";
import { OWNED_PRIORITY_SPAN, parseSettings, requireNodeName, SETTINGS, SettingsError, type Settings } from "./settings";

const USAGE = `usage: node main.js [run|uninstall] [--flag value ...]\n\n${Object.values(SETTINGS)
  .map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(36)} default ${JSON.stringify(s.default)}\n      ${s.help}`)
  .join("\n")}\n`;

async function runAgent(settings: Settings, log: Logger): Promise<void> {
  const nodeName = requireNodeName(settings);
  const metrics = new Metrics();
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN));
  const view: { source?: ClusterSource } = {};
  const reconciler = new Reconciler(port, settings, nodeName, () => ({ nodes: view.source?.nodes() ?? [], ciliumNodes: view.source?.ciliumNodes() ?? [] }));
  const controller = new Controller(reconciler, metrics, log, { debounceMs: 200, resyncMs: settings.resyncSeconds * 1000, retryMs: 5000 });
  const servers: Server[] = await startHttp({ health: settings.healthAddress, metrics: settings.metricsAddress }, controller, metrics);
  const monitor = startLinkMonitor({
    device: settings.device,
    onChange: () => controller.request("link", true),
    onError: (message) => {
      metrics.errors.inc({ kind: "link-monitor" });
      log.warn({ message }, "link monitor");
    },
  });
  const informers = await startInformers(loadKubeConfig(settings.kubeconfig), {
    onChange: () => controller.request("cluster"),
    onSynced: () => {
      log.info("cluster view complete; reconciling");
      reconciler.markSynced();
      controller.request("synced", true);
    },
  }, log, metrics);
  view.source = informers;
  controller.start();
  log.info({ nodeName, device: settings.device, tables: [settings.steeringTable, settings.controlPlaneTable], priorities: `${settings.rulePriority}-${settings.rulePriority + OWNED_PRIORITY_SPAN - 1}` }, "node-router started");

  const shutdown = async (signal: string) => {
    log.info({ signal }, "stopping; kernel state left in place for the next instance");
    controller.stop();
    monitor.stop();
    await informers.stop();
    servers.forEach((s) => s.close());
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

async function runUninstall(settings: Settings, log: Logger): Promise<number> {
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN));
  const { plan, errors } = await uninstall(port);
  log.info({ rules: plan.remove.rules.length, routes: plan.remove.routes.length, failed: errors.length, errors }, "uninstalled");
  return errors.length === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "run";
  const rest = argv[0] === command ? argv.slice(1) : argv;
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
