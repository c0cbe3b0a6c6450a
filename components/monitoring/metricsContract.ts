// What the alert rules, their promtool tests and the dashboard ask of the agent's /metrics, and
// whether a real scrape gives it (pure). PromQL is read with Prometheus' own grammar
// (@prometheus-io/lezer-promql), so a metric or label renamed in the agent, or misspelt here,
// is a failed check rather than an alert that silently never fires.
import { parser } from "@prometheus-io/lezer-promql";
import type { RuleGroup } from "./prometheusRule";

/** Labels Prometheus adds to every scraped agent (a PodMonitor's, or the pod annotations' job): not the agent's. */
export const TARGET_LABELS = ["job", "instance", "namespace", "pod", "container", "endpoint"] as const;
/** Series Prometheus makes itself, not the agent. */
export const PROMETHEUS_SERIES = ["up"] as const;

/** One thing asked of the scrape: a series name, optionally one of its labels, optionally that label's values. */
export interface Use {
  where: string;
  metric: string;
  label?: string;
  values?: string[];
}

/** Grafana's variables, replaced by something PromQL parses (dashboards only). */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m").replace(/\$\{?\w+\}?/g, ".*");
}

/** Metric names, label matchers and the labels grouped, joined or templated on, of one PromQL expression. */
export function usesOf(expr: string, where: string, templates: string[] = []): Use[] {
  const tree = parser.parse(expr);
  const text = (n: { from: number; to: number }) => expr.slice(n.from, n.to);
  const uses: Use[] = [];
  const metrics: string[] = [];
  const loose: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(n) {
      if (n.type.isError) errors.push(`at ${n.from}`);
      if (n.name === "VectorSelector") {
        const id = n.node.getChild("Identifier");
        const metric = id ? text(id) : "";
        if (!metric) errors.push(`a selector without a metric name at ${n.from}: name the metric`);
        metrics.push(metric);
        uses.push({ where, metric });
        for (const m of n.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
          const label = text(m.getChild("LabelName")!);
          const op = text(m.getChild("MatchOp")!);
          const value = JSON.parse(text(m.getChild("StringLiteral")!)) as string;
          uses.push({ where, metric, label, values: literalValues(op, value) });
        }
      }
      if (n.name === "GroupingLabels") for (const l of n.node.getChildren("LabelName")) loose.push(text(l));
    },
  });
  if (errors.length > 0) throw new Error(`${where}: "${expr}" does not parse as PromQL (${errors.join(", ")})`);
  for (const t of templates) for (const m of t.matchAll(/\$labels\.(\w+)/g)) loose.push(m[1]);
  // A label grouped or templated on must be a target label or one of the selected metrics' own.
  for (const label of new Set(loose)) {
    if (!(TARGET_LABELS as readonly string[]).includes(label)) uses.push({ where, metric: metrics.join("|"), label });
  }
  return uses;
}

/** Literal values a matcher names: "a" for =/!=, "a", "b" for =~/!~ "a|b"; none for a real pattern. */
function literalValues(op: string, value: string): string[] | undefined {
  if (op === "=" || op === "!=") return value === "" ? undefined : [value];
  const parts = value.split("|");
  return parts.every((p) => /^[\w.-]+$/.test(p)) ? parts : undefined;
}

/** Every expression of a rules file. */
export function usesOfRules(groups: RuleGroup[]): Use[] {
  return groups.flatMap((g) =>
    g.rules.flatMap((r) => {
      const name = String(r.alert ?? r.record);
      const annotations = Object.values((r.annotations ?? {}) as Record<string, string>);
      return usesOf(String(r.expr), `rule ${name}`, annotations);
    }),
  );
}

/** Every input series of a promtool test file (series notation is a selector with = matchers). */
export function usesOfRuleTests(doc: { tests: { input_series?: { series: string }[] }[] }): Use[] {
  return doc.tests.flatMap((t, i) => (t.input_series ?? []).flatMap((s) => usesOf(s.series, `test ${i + 1} series ${s.series}`)));
}

/** Every query of a Grafana dashboard: panel targets and template variables. */
export function usesOfDashboard(dashboard: GrafanaDashboard): Use[] {
  const panels = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })));
  const variables = (dashboard.templating?.list ?? [])
    .filter((v) => v.type === "query")
    .map((v) => {
      const query = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
      const inner = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
      return { where: `variable ${v.name}`, expr: inner ? `group by (${inner[2]}) (${inner[1]})` : query };
    });
  return [...panels, ...variables].flatMap((q) => usesOf(withoutGrafanaVariables(q.expr), q.where));
}

/** The parts of a Grafana dashboard the checks read. */
export interface GrafanaDashboard {
  panels: { id: number; title: string; type: string; targets?: { expr: string; refId: string; legendFormat?: string }[]; gridPos?: unknown }[];
  templating?: { list: { name: string; type: string; query?: string | { query?: string } }[] };
}

/** Sample name -> label -> values seen, from a Prometheus text exposition. */
export type ScrapeIndex = Map<string, Map<string, Set<string>>>;

export function indexScrape(text: string): ScrapeIndex {
  const index: ScrapeIndex = new Map();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+/.exec(line);
    if (!m) continue;
    const labels = index.get(m[1]) ?? new Map<string, Set<string>>();
    index.set(m[1], labels);
    for (const l of (m[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(l[1]) ?? new Set<string>();
      values.add(l[2]);
      labels.set(l[1], values);
    }
  }
  return index;
}

/** Everything asked that the scrape does not give, one line each naming where it was asked. */
export function missingFromScrape(uses: Use[], scrape: ScrapeIndex): string[] {
  const problems = new Set<string>();
  for (const u of uses) {
    const metrics = u.metric.split("|").filter((m) => !(PROMETHEUS_SERIES as readonly string[]).includes(m));
    for (const m of metrics) if (!scrape.has(m)) problems.add(`${u.where}: no series ${m} in the agent's /metrics`);
    if (!u.label || (TARGET_LABELS as readonly string[]).includes(u.label) || metrics.length === 0) continue;
    const carrying = metrics.filter((m) => scrape.get(m)?.has(u.label!));
    if (carrying.length === 0) {
      problems.add(`${u.where}: label ${u.label} is on none of ${metrics.join(", ")} in the agent's /metrics`);
      continue;
    }
    for (const v of u.values ?? []) {
      if (!carrying.some((m) => scrape.get(m)!.get(u.label!)!.has(v)))
        problems.add(`${u.where}: ${u.label}="${v}" never appears on ${carrying.join(", ")} in the agent's /metrics`);
    }
  }
  return [...problems];
}
