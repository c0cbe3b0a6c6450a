// The agent-side helpers: the settings table against the agent's own, the shell reader, the
// ConfigMap/volume resolver, taints in user data.
import { SETTINGS } from "../../agent/src/settings";
import { AGENT_SETTINGS, judgeMark, judgeSelector } from "./agent-settings";
import { settingOccurrences } from "./agent-sources";
import { envFile, fileSource } from "./k8s-refs";
import { taintsInText } from "./node-taints";
import { commands, fileRead, shellScript, variableOnly } from "./shell";

describe("the agent settings the pack judges", () => {
  it("carry the agent's own flag, environment variable and default (agent/src/settings.ts)", () => {
    const agent = SETTINGS as Record<string, { flag: string; env: string; default: string }>;
    const judged = Object.entries(AGENT_SETTINGS).filter(([name]) => name in agent || name !== "localInterfaces");
    expect(judged.length).toBeGreaterThanOrEqual(5);
    for (const [name, s] of judged) expect({ name, ...s }).toEqual({ name, flag: agent[name].flag, env: agent[name].env, default: agent[name].default });
  });

  it("judge mark/mask pairs by Cilium's mark nibble and selectors by what they require", () => {
    const limits = {
      allowedExemptPorts: [],
      wireguardDevice: "cilium_wg0",
      wireguardMark: 0xe00,
      wireguardMarkMask: 0xf00,
      everyNodeLabelKeys: ["kubernetes.io/os"],
      allowedLocalInterfaces: [],
    };
    expect(judgeMark("0xe00", "0xf00", limits)).toBeUndefined();
    expect(judgeMark("3584", "3840", limits)).toBeUndefined();
    expect(judgeMark("0xa00", "0xf00", limits)).toContain("not WireGuard's");
    expect(judgeMark("junk", "0xf00", limits)).toContain("refuses to start");
    expect(judgeSelector("node-role.kubernetes.io/control-plane", ["kubernetes.io/os"])).toBeUndefined();
    expect(judgeSelector("", [])).toContain("empty");
    expect(judgeSelector("!a,b!=c,kubernetes.io/os", ["kubernetes.io/os"])).toContain("matches every node");
  });
});

describe("shell", () => {
  it("splits commands and words, honouring quotes, escapes, comments and $( ) nesting", () => {
    const cmds = commands(`export A="x y" B='$z' ; exec run --p=$(cat "/etc/a") --q \\\n  'v' # comment\n echo $(f $(g))`);
    expect(cmds.map((c) => c.map((w) => w.text))).toEqual([
      ["export", "A=x y", "B=$z"],
      ["exec", "run", '--p=$(cat "/etc/a")', "--q", "v"],
      ["echo", "$(f $(g))"],
    ]);
    expect(cmds[0][2].expands).toBe(false); // single quotes: literal
    expect(cmds[1][2].expands).toBe(true);
  });

  it("recognises `sh -c` argv, lone variables and file reads", () => {
    expect(shellScript(["/bin/bash", "-euc", "x"])).toEqual({ script: "x", index: 2 });
    expect(shellScript(["busybox", "sh", "-c", "y"])).toEqual({ script: "y", index: 3 });
    expect(shellScript(["node-router", "-c", "x"])).toBeUndefined();
    expect([variableOnly("$P"), variableOnly("${P}"), variableOnly("$P,x")]).toEqual(["P", "P", undefined]);
    expect([fileRead("$(cat /a/b)"), fileRead("$(< '/a/c')"), fileRead("$(curl x)")]).toEqual(["/a/b", "/a/c", undefined]);
  });
});

describe("pod spec references", () => {
  it("maps a file path to the ConfigMap/Secret key behind it (items, subPath, projected)", () => {
    const spec = {
      volumes: [
        { name: "a", configMap: { name: "cm-a" } },
        { name: "b", secret: { secretName: "sec-b", items: [{ key: "real", path: "alias" }] } },
        { name: "c", projected: { sources: [{ configMap: { name: "cm-c" } }] } },
        { name: "h", hostPath: { path: "/etc" } },
      ],
    };
    const c = {
      volumeMounts: [
        { name: "a", mountPath: "/etc/a" },
        { name: "b", mountPath: "/etc/b/" },
        { name: "c", mountPath: "/etc/c/file", subPath: "k" },
        { name: "h", mountPath: "/host" },
      ],
    };
    expect(fileSource(spec, c, "/etc/a/ports")).toEqual({ kind: "configMap", name: "cm-a", key: "ports" });
    expect(fileSource(spec, c, "/etc/b/alias")).toEqual({ kind: "secret", name: "sec-b", key: "real" });
    expect(fileSource(spec, c, "/etc/c/file")).toEqual({ kind: "configMap", name: "cm-c", key: "k" });
    expect(fileSource(spec, c, "/host/x")).toBeUndefined();
    expect(envFile("# c\nexport A=1\nB='two'\nC=3 # note\n")).toEqual([
      ["A", "1"],
      ["B", "two"],
      ["C", "3"],
    ]);
  });

  it("finds settings in args, env, envFrom, scripts and $(VAR), with a flag shadowing the same setting's env", () => {
    const occ = settingOccurrences({
      containers: [
        {
          env: [
            { name: "NODE_ROUTER_DEVICE", value: "eth0" },
            { name: "P", value: "22" },
            { name: "Q", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
          ],
          envFrom: [{ configMapRef: { name: "cm" }, prefix: "NODE_ROUTER_" }],
          args: ["--device=cilium_wg0", "--exempt-ports=$(P)", "--wg-mark", "$(Q)"],
        },
      ],
    });
    expect(occ.map((o) => [o.setting, o.name, typeof o.value === "object" ? (o.value as { from: string }).from : o.value])).toEqual([
      [undefined, "cm", "configMap"],
      ["device", "--device", "cilium_wg0"],
      ["exemptPorts", "--exempt-ports", "22"],
      ["wgMark", "--wg-mark", "secretKey"],
    ]);
  });
});

describe("node taints in user data", () => {
  it("reads kubeadm taints (also base64 write_files and heredocs) and kubelet flags, NoSchedule/NoExecute only", () => {
    const join =
      "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  taints: [{key: a, value: b, effect: NoExecute}, {key: c, effect: PreferNoSchedule}]\n";
    const cloud = `#cloud-config\nwrite_files:\n  - path: /j.yaml\n    encoding: b64\n    content: ${Buffer.from(join).toString("base64")}\n`;
    expect(taintsInText(cloud, "ud").map((t) => `${t.key}=${t.value}:${t.effect}`)).toEqual(["a=b:NoExecute"]);
    const script = `#!/bin/sh\ncat <<'EOF' > /j.yaml\n${join}EOF\nkubelet --register-with-taints=x:NoSchedule`;
    expect(
      taintsInText(script, "ud")
        .map((t) => `${t.key}:${t.effect}`)
        .sort(),
    ).toEqual(["a:NoExecute", "x:NoSchedule"]);
  });
});
