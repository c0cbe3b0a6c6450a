// The alert rules, checked and unit-tested by the real promtool, and held to the project's rules
// for alerts: severity, summary, description, a runbook section, a firing and a quiet test case.
// That every metric and label they use exists in a real agent's /metrics:
// lab/test/metrics-contract.test.ts.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { loadRuleGroups, RULES_FILE } from "./prometheusRule";
import { promtool } from "./promtool";

const TESTS_FILE = join(__dirname, "node-router.rules.test.yaml");
const alerts = loadRuleGroups().flatMap((g) => g.rules) as {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}[];
/** Alerts on an event (a counter increased within a window) rather than a state that lasts. */
const EVENT_ALERTS = ["NodeRouterIdentityClaim"];

interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

/** The rules and their tests in a scratch directory, the rules edited by `edit`. */
function withEditedRules(edit: (rules: string) => string, f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "rules-"));
  try {
    writeFileSync(join(dir, "node-router.rules.yaml"), edit(readFileSync(RULES_FILE, "utf8")));
    copyFileSync(TESTS_FILE, join(dir, "node-router.rules.test.yaml"));
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("node-router alert rules", () => {
  it("pass promtool check rules", () => {
    const r = promtool(["check", "rules", RULES_FILE]);
    expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.status).toBe(0);
  });

  it("pass their promtool unit tests", () => {
    const r = promtool(["test", "rules", "node-router.rules.test.yaml"], __dirname);
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it.each([
    ["a shorter for:", (s: string) => s.replace(/(alert: NodeRouterGuardDroppedCleartext[\s\S]*?)for: 5m/, "$1for: 1m")],
    ["a renamed metric", (s: string) => s.replaceAll("node_router_table_nodes_without_peer", "node_router_nodes_without_peer")],
    ["a changed threshold", (s: string) => s.replace("> 600", "> 6000")],
    ["a changed severity", (s: string) => s.replace(/(alert: NodeRouterAgentMissing[\s\S]*?)severity: critical/, "$1severity: warning")],
  ])("fail their unit tests with %s", (_what, edit) => {
    withEditedRules(edit, (dir) => {
      const r = promtool(["test", "rules", "node-router.rules.test.yaml"], dir);
      expect(r.output).toContain("FAILED");
      expect(r.status).not.toBe(0);
    });
  });

  const readme = readFileSync(join(__dirname, "README.md"), "utf8");
  it.each(alerts.map((a) => [a.alert, a]))("%s has a severity, summary, description, for: and a runbook section", (name, a) => {
    expect(["critical", "warning"]).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toMatch(/\S/);
    expect(a.annotations?.description?.length).toBeGreaterThan(a.annotations!.summary.length);
    expect(a.annotations?.runbook).toBe(`components/monitoring/README.md#${name.toLowerCase()}`);
    expect(readme).toMatch(new RegExp(`^### ${name}$`, "m"));
    if (EVENT_ALERTS.includes(name)) expect(a.for).toBeUndefined();
    else expect(a.for).toMatch(/^([5-9]|[1-9]\d)m$/);
  });

  it("have a firing and a quiet case for every alert in the promtool tests", () => {
    const cases = (parse(readFileSync(TESTS_FILE, "utf8")) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect({ alert: a.alert, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert: a.alert, fires: true });
      expect({ alert: a.alert, quiet: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert: a.alert, quiet: true });
    }
    expect(cases.map((c) => c.alertname).filter((n) => !alerts.some((a) => a.alert === n))).toEqual([]);
  });
});
