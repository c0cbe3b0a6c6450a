// Stack config `alerts`: the program creates the node-router PrometheusRule only when asked, with
// exactly the rules file's groups, inside the cluster's lifecycle; bad values fail before any
// resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRuleGroups, prometheusRule } from "../components/monitoring/prometheusRule";
import { installMocks, ofType, settle } from "./pulumiMocks";
import { projectName, runProgram, stackConfig } from "./stackHarness";

const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const withAlerts = (alerts: unknown) => ({ ...stackConfig("aws"), [`${projectName}:alerts`]: JSON.stringify(alerts) });

describe("stack config alerts", () => {
  it("creates no PrometheusRule by default", async () => {
    const { recorded } = await runProgram("aws");
    expect(ofType(recorded, "kubernetes:apps/v1:DaemonSet")).toHaveLength(1);
    expect(ofType(recorded, RULE)).toEqual([]);
  });

  it("creates the PrometheusRule from the rules file when enabled, with the Prometheus' selector labels, deleted with the cluster", async () => {
    const { recorded } = await runProgram("aws", withAlerts({ prometheusRule: true, namespace: "monitoring", labels: { release: "kube-prometheus-stack" } }));
    const [rule] = ofType(recorded, RULE);
    expect(rule.inputs).toMatchObject({ apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule" });
    expect(rule.inputs.metadata).toMatchObject({
      name: "node-router",
      namespace: "monitoring",
      labels: { release: "kube-prometheus-stack", "app.kubernetes.io/name": "node-router" },
    });
    expect(rule.inputs.spec.groups).toEqual(loadRuleGroups());
    const [daemonSet] = ofType(recorded, "kubernetes:apps/v1:DaemonSet");
    expect(rule.options.deletedWith).not.toBe("");
    expect(rule.options.deletedWith).toBe(daemonSet.options.deletedWith);
    // The cluster's Kubernetes provider, given to the component as a resource option.
    expect(rule.options.provider).toMatch(/pulumi:providers:kubernetes::meshaws-k8s::/);
    expect(rule.options.provider).toBe(daemonSet.options.provider);
    expect(rule.urn).toMatch(/wg-mesh:monitoring:NodeRouterAlerts\$kubernetes:monitoring.coreos.com\/v1:PrometheusRule::/);
  });

  it.each([
    [{ prometheusRule: "true" }, /alerts\.prometheusRule: Invalid input: expected boolean, received string/],
    [{ prometheusRule: true, namespace: "Monitoring" }, /alerts\.namespace: a Kubernetes namespace name/],
    [
      { prometheusRule: true, labels: { "release name": "x" } },
      /alerts\.labels\.release name: "release name" is not a Kubernetes label name; use e\.g\. release/,
    ],
    [{ prometheusRule: true, labels: { release: "kube prometheus" } }, /alerts\.labels\.release: "kube prometheus" is not a Kubernetes label value/],
    [{ promethusRule: true }, /alerts: unknown key\(s\) promethusRule; remove them or fix the spelling/],
  ])("rejects %j before registering anything", async (alerts, message) => {
    // The program run by hand (runProgram installs its own mocks): what it registered before failing.
    const recorded = await installMocks(projectName, "bad-alerts");
    pulumi.runtime.setAllConfig(withAlerts(alerts));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { program } = require("../infra/program") as typeof import("../infra/program");
    let failure: Error | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
      try {
        await program();
      } catch (e) {
        failure = e as Error;
      }
      return undefined;
    });
    await settle();
    expect(failure?.message).toMatch(message);
    expect(recorded).toEqual([]);
  });
});

describe("prometheusRule", () => {
  it("carries the rules file's groups unless given others", () => {
    expect(prometheusRule({ namespace: "kube-system" }).spec.groups.map((g) => g.name)).toEqual(["node-router"]);
    expect(prometheusRule({ namespace: "kube-system", groups: [{ name: "x", rules: [{ alert: "A", expr: "vector(1)" }] }] }).spec.groups).toEqual([
      { name: "x", rules: [{ alert: "A", expr: "vector(1)" }] },
    ]);
  });

  it("refuses a rules file that is not one, naming the stack config key", () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-"));
    try {
      writeFileSync(join(dir, "bad.yaml"), "groups: []\n");
      expect(() => loadRuleGroups(join(dir, "bad.yaml"))).toThrow(/^alerts\.prometheusRule: .*bad\.yaml is not a rules file/);
      expect(() => loadRuleGroups(join(dir, "missing.yaml"))).toThrow(/^alerts\.prometheusRule: cannot read the rules file: .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
