// The alerts' contract with the agent, on the real thing: a real agent (with its node table,
// egress guard and a real wireguard-go device) is scraped, and every metric, label and label
// value that the alert rules, their promtool tests' input series and the Grafana dashboard use
// must be in that scrape - so renaming a metric in the agent fails the build, not the alert.
// Also: node_router_table_nodes_without_peer follows the device's real peers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { indexScrape, missingFromScrape, usesOfDashboard, usesOfRules, usesOfRuleTests } from "../../components/monitoring/metricsContract";
import { loadRuleGroups } from "../../components/monitoring/prometheusRule";
import { promtool } from "../../components/monitoring/promtool";
import { inNs, waitFor } from "../src/exec";
import { withNodeRunDir } from "../src/wireguard";
import { metric, useFaultLab } from "./harness";

const monitoring = join(__dirname, "..", "..", "components", "monitoring");
const read = (f: string) => readFileSync(join(monitoring, f), "utf8");

describe("metrics contract: the alerts and the dashboard against a real agent's /metrics", () => {
  const fault = useFaultLab();

  /** `wg` on a node, in a mount namespace that sees its wireguard-go the way its agent does. */
  const wg = (ns: string, args: string[]) => inNs(ns, withNodeRunDir(fault.lab.dir, ns, ["wg", ...args])).stdout;

  test("every metric, label and value the rules, their tests and the dashboard use is in the scrape", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    // A cluster-only step (an API object changed, no kernel read): kernel_read="false" appears too.
    await l.publish(l.node("node-2"));
    const scrape = await waitFor(
      "both kinds of reconcile observed",
      async () => {
        const text = await l.agent(node.name).metrics();
        return /kernel_read="false"/.test(text) && /kernel_read="true"/.test(text) ? text : undefined;
      },
      10_000,
      200,
    );

    const uses = [
      ...usesOfRules(loadRuleGroups()),
      ...usesOfRuleTests(parse(read("node-router.rules.test.yaml"))),
      ...usesOfDashboard(JSON.parse(read("node-router.dashboard.json"))),
    ];
    expect(uses.length).toBeGreaterThan(60);
    expect(missingFromScrape(uses, indexScrape(scrape))).toEqual([]);
    // Something the scrape lacks is reported (the check can fail).
    expect(missingFromScrape([{ where: "x", metric: "node_router_device_is_up" }], indexScrape(scrape))).toHaveLength(1);

    expect(metric(scrape, "node_router_table_nodes")).toBe(l.nodes.length);
    expect(metric(scrape, "node_router_table_nodes_without_peer")).toBe(0);
    expect(metric(scrape, 'node_router_errors_total{kind="wireguard"}')).toBe(0);
    const lint = promtool(["check", "metrics"], undefined, scrape);
    expect(lint.output).toBe("");
    expect(lint.status).toBe(0);
  });

  test("node_router_table_nodes_without_peer counts a table node whose WireGuard peer is removed, and not once it is back", async () => {
    const l = fault.lab;
    const node = l.node("node-1");
    const gone = l.node("node-2");
    const peerLine = wg(node.ns, ["show", "cilium_wg0", "allowed-ips"])
      .split("\n")
      .find((line) => line.includes(`${gone.underlayIp}/32`));
    expect(peerLine).toBeDefined();
    wg(node.ns, ["set", "cilium_wg0", "peer", peerLine!.split("\t")[0], "remove"]);
    try {
      expect(metric(await l.agent(node.name).metrics(), "node_router_table_nodes_without_peer")).toBe(1);
      // Only node-1 lost the peer: the others still have one for every table node.
      for (const other of l.nodes.filter((n) => n !== node))
        expect(metric(await l.agent(other.name).metrics(), "node_router_table_nodes_without_peer")).toBe(0);
      // The agent's log names the node (the runbook's first step).
      const named = new RegExp(`"nodes":\\["${gone.name}"\\].*without a WireGuard peer`);
      await waitFor("the agent's log to name the node", () => named.test(readFileSync(l.agent(node.name).logFile, "utf8")), 5000, 100);
    } finally {
      l.wireNode(node); // what Cilium would do: the peer is back
    }
    expect(metric(await l.agent(node.name).metrics(), "node_router_table_nodes_without_peer")).toBe(0);
  }, 30_000);
});
