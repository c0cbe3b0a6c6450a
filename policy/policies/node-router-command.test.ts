import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { agentPodSpec, baseline, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { nodeRouterCommand as policy } from "./node-router-command";

const withContainer = (edit: (c: any) => void) => {
  const s = baseline();
  edit(agentPodSpec(s).containers[0]);
  return get(s, "node-router");
};
const messages = async (r: Parameters<typeof runResourcePolicy>[1]) => (await runResourcePolicy(policy, r)).violations.map((v) => v.message);

describe("node-router-command", () => {
  it("passes the baseline (flags only: the image runs main.js run) and the explicit forms of run", async () => {
    expect(await runResourcePolicy(policy, get(baseline(), "node-router"))).toEqual({ violations: [] });
    for (const edit of [
      (c: any) => {
        c.args = ["run", ...c.args];
      },
      (c: any) => {
        delete c.args;
      },
      (c: any) => {
        c.command = ["node", "--optimize-for-size", "dist/agent/src/main.js"];
        c.args = ["run", "--device=cilium_wg0"];
      },
      (c: any) => {
        c.command = ["/usr/local/bin/node", "/app/dist/agent/src/main.js", "run"];
      },
      (c: any) => {
        c.env.push({ name: "MODE", value: "run" });
        c.args = ["$(MODE)", "--device=cilium_wg0"];
      },
    ])
      expect(await runResourcePolicy(policy, withContainer(edit))).toEqual({ violations: [] });
  });

  it("rejects `uninstall`, naming the resource and the field", async () => {
    const ms = await messages(
      withContainer((c) => {
        c.args = ["uninstall"];
      }),
    );
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatch(
      /^'node-router' \(urn:pulumi:.*\): spec\.template\.spec\.containers\[0\]\.args\[0\] makes the agent run 'uninstall', which removes every rule, route and the boot guard/,
    );
    expect(
      await messages(
        withContainer((c) => {
          c.command = ["node", "dist/agent/src/main.js", "uninstall"];
          delete c.args;
        }),
      ),
    ).toEqual([expect.stringContaining("containers[0].command[2] makes the agent run 'uninstall'")]);
  });

  it("rejects a shell wrapper (uninstall then sleep, or exec of the agent) and another program", async () => {
    expect(
      await messages(
        withContainer((c) => {
          c.command = ["/bin/sh", "-c"];
          c.args = ["node /app/main.js uninstall; sleep infinity"];
        }),
      ),
    ).toEqual([expect.stringContaining("containers[0].command[0] runs the agent through '/bin/sh' (a shell or wrapper)")]);
    expect(
      await messages(
        withContainer((c) => {
          c.command = ["bash", "-c", "exec node main.js run"];
        }),
      ),
    ).toHaveLength(1);
    expect(
      await messages(
        withContainer((c) => {
          c.command = ["sleep", "infinity"];
        }),
      ),
    ).toEqual([expect.stringContaining("runs 'sleep' instead of the agent's entrypoint")]);
    expect(
      await messages(
        withContainer((c) => {
          c.command = ["node", "/tmp/other.js"];
        }),
      ),
    ).toEqual([expect.stringContaining("runs '/tmp/other.js' instead of the agent's main.js")]);
  });

  it("rejects the one-shot sub-commands, --help, and an uninstall lifecycle hook", async () => {
    expect(
      await messages(
        withContainer((c) => {
          c.args = ["guard", "apply"];
        }),
      ),
    ).toEqual([expect.stringContaining("'guard', which runs once and exits")]);
    expect(
      await messages(
        withContainer((c) => {
          c.args = [...c.args, "--help"];
        }),
      ),
    ).toEqual([expect.stringContaining("'--help' makes the agent print its usage and exit")]);
    expect(
      await messages(
        withContainer((c) => {
          c.lifecycle = { preStop: { exec: { command: ["node", "dist/agent/src/main.js", "uninstall"] } } };
        }),
      ),
    ).toEqual([expect.stringContaining("containers[0].lifecycle.preStop.exec.command runs the agent's 'uninstall'")]);
  });

  it("judges a DaemonSetPatch's command and the chart's documented extraArgs; leaves an unrelated DaemonSet alone", async () => {
    const patch = {
      type: "kubernetes:apps/v1:DaemonSetPatch",
      name: "node-router-tweak",
      urn: "urn:pulumi:dev::p::kubernetes:apps/v1:DaemonSetPatch::node-router-tweak",
      props: {
        metadata: { name: "node-router", namespace: "kube-system" },
        spec: { template: { spec: { containers: [{ name: "node-router", args: ["uninstall"] }] } } },
      },
    };
    expect(await messages(patch)).toHaveLength(1);
    const image = { ...patch, props: { ...patch.props, spec: { template: { spec: { containers: [{ name: "node-router", image: "x@sha256:1" }] } } } } };
    expect(await runResourcePolicy(policy, image)).toEqual({ violations: [] });
    const chart = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "nr",
      urn: "urn:pulumi:dev::p::kubernetes:helm.sh/v3:Release::nr",
      props: { chart: "oci://ghcr.io/example/charts/node-router", values: { tolerations: [{ operator: "Exists" }], extraArgs: ["uninstall"] } },
    };
    expect(await messages(chart)).toHaveLength(1);
    const other = withContainer((c) => {
      c.command = ["sh", "-c", "sleep infinity"];
    });
    other.props = { ...other.props, metadata: { name: "log-shipper", labels: { app: "log-shipper" } } };
    (other.props as any).spec.template.metadata.labels = { app: "log-shipper" };
    (other.props as any).spec.selector.matchLabels = { app: "log-shipper" };
    expect(await runResourcePolicy(policy, other)).toEqual({ violations: [] });
  });

  it("reports unknown command words at preview as unchecked", async () => {
    const out = await runResourcePolicy(
      policy,
      withContainer((c) => {
        c.args = [UNKNOWN_SENTINEL];
      }),
    );
    expect(out).toMatchObject({ violations: [], unchecked: expect.stringContaining("containers[0].args[0]") });
  });
});
