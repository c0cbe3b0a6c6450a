// `main.js status [--json]`: gathers the facts status.ts judges, from the host itself (files the
// agent persisted, the ConfigMap's file, the kernel through the same ports the agent uses, `wg`,
// and the agent's /metrics), so it can be run in the node-router pod (`kubectl exec`) next to a
// running agent, or on the host. Exit 0 only when every check holds; 1 otherwise; 2 bad settings.
import { readFile } from "node:fs/promises";
import { get } from "node:http";
import { NftGuard } from "./guardKernel";
import { Iproute2Kernel, ownershipFrom } from "./kernel";
import { NodeTableError, parseNodeTable } from "./nodeTable";
import { probeCheck } from "./probe";
import { runProbe } from "./probeSend";
import { OWNED_PRIORITY_SPAN, requireNodeName, type Settings } from "./settings";
import { renderStatus, statusChecks, type StatusFacts, type TableFact } from "./status";
import { parseDeparted, parseLocal, statePaths } from "./tableStore";
import { WireGuardPeers } from "./wireguardPeers";

export const STATUS_USAGE = "status [--json] [--probe N] [--node-name --node-table --state-dir --device --metrics-address ...]";

async function readTable(path: string, nodeName: string): Promise<TableFact> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return { path, error: (e as Error).message };
  }
  try {
    return { path, table: parseNodeTable(text, undefined, { localNodeName: nodeName }) };
  } catch (e) {
    if (e instanceof NodeTableError) return { path, error: e.message };
    throw e;
  }
}

/** The agent's last-success gauge from its /metrics (2 s at most: a stuck agent is a finding, not a hang). */
function lastSuccess(settings: Settings): Promise<number | { error: string }> {
  const { host, port } = settings.metricsAddress;
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return new Promise((resolve) => {
    const req = get({ host: target, port, path: "/metrics", timeout: 2000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        const m = /^node_router_last_successful_reconcile_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m.exec(body);
        resolve(m ? Number(m[1]) : { error: `no node_router_last_successful_reconcile_timestamp_seconds on ${target}:${port}/metrics` });
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 2 s")));
    req.on("error", (e) => resolve({ error: `the agent's metrics at ${target}:${port}: ${e.message}` }));
  });
}

export async function gatherStatus(settings: Settings, netns?: string): Promise<StatusFacts> {
  const nodeName = requireNodeName(settings);
  const paths = settings.stateDir ? statePaths(settings.stateDir) : undefined;
  const port = new Iproute2Kernel(ownershipFrom(settings, OWNED_PRIORITY_SPAN), netns);
  const guard = new NftGuard(netns);
  try {
    const [configMap, inUse, departed, local, link, kernel, elements, dropped, peers, success] = await Promise.all([
      settings.nodeTable ? readTable(settings.nodeTable, nodeName) : Promise.resolve(undefined),
      paths ? readTable(paths.table, nodeName) : Promise.resolve({ path: "(no --state-dir)", error: "the agent persists nothing without --state-dir" }),
      paths ? readFile(paths.departed, "utf8").then(parseDeparted, () => []) : Promise.resolve([]),
      paths ? readFile(paths.local, "utf8").then(parseLocal, () => []) : Promise.resolve([]),
      port.linkState(settings.device),
      port.readOwned(),
      guard.elements(),
      guard.dropped(),
      new WireGuardPeers(netns).peers(settings.device).catch((e: Error) => ({ error: e.message })),
      lastSuccess(settings),
    ]);
    return {
      nodeName,
      now: Date.now(),
      configMap,
      inUse,
      departed,
      localPodCidrs: local,
      deviceUp: link.exists && link.up,
      kernel,
      guard: elements,
      dropped,
      peers,
      lastSuccess: success,
    };
  } finally {
    port.close();
  }
}

/** `probe`: send that many nodes a probe in the clear past the routes (probe.ts) and add its check. */
export async function runStatusCommand(settings: Settings, json: boolean, probe?: number): Promise<number> {
  const facts = await gatherStatus(settings);
  const checks = statusChecks(facts, settings);
  if (probe !== undefined) checks.push(probeCheck(await runProbe(settings, facts.nodeName, facts.inUse.table, probe, new NftGuard())));
  process.stdout.write(
    json ? `${JSON.stringify({ node: facts.nodeName, ok: checks.every((c) => c.ok), checks }, null, 2)}\n` : renderStatus(facts.nodeName, checks),
  );
  return checks.every((c) => c.ok) ? 0 : 1;
}
