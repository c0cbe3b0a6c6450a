// wg-mesh-apiserver-proxy-sync (proxySync.sh) in real bash with the real `haproxy -c` and a stub
// `systemctl` that records its arguments: the agent's copy, rendered from a node table by the
// agent's renderer, is installed and HAProxy reloaded when only the backend servers changed;
// anything else (no control plane, a server line carrying options, another line changed, a file
// haproxy refuses) keeps the configuration in place, reloads nothing and fails the unit.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseNodeTable } from "../../../agent/src/nodeTable";
import { proxyConfigOf, renderProxyConfig } from "../../../agent/src/apiserverProxy";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { requireTool, withTempDir } from "../../../test/tools";
import { PROXY_CANDIDATE_FILE, PROXY_SYNC_PATH_UNIT_CONTENT, PROXY_UNIT, PROXY_UNIT_CONTENT } from "./apiserverProxy";
import { STATE_DIR } from "../../nodeRouter/daemonSet";

beforeAll(() => {
  requireTool("bash", "bash");
  requireTool("haproxy", "haproxy");
});

const SCRIPT = join(__dirname, "proxySync.sh");
const SYSTEMCTL = `#!/bin/bash
echo "$*" >>"$STUB/systemctl.args"
`;

interface Sync {
  status: number | null;
  stderr: string;
  live: string;
  reloads: string[];
}

/** Runs the script with the live configuration `live` and the agent's copy `candidate` (absent: none). */
function sync(live: (ca: string) => string, candidate: ((ca: string) => string) | undefined, args: string[] = []): Sync {
  return withTempDir((dir) => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "systemctl"), SYSTEMCTL);
    chmodSync(join(bin, "systemctl"), 0o755);
    const ca = join(dir, "ca.crt");
    writeFileSync(ca, exampleNodes["aws worker"].caCertPem);
    const liveFile = join(dir, "apiserver-proxy.cfg");
    writeFileSync(liveFile, live(ca));
    const candidateFile = join(dir, "state-apiserver-proxy.cfg");
    if (candidate) writeFileSync(candidateFile, candidate(ca));
    const r = spawnSync("bash", [SCRIPT, ...args], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, STUB: dir, WG_MESH_PROXY_CANDIDATE: candidateFile, WG_MESH_PROXY_CONFIG: liveFile },
    });
    const argsFile = join(dir, "systemctl.args");
    const leftovers = spawnSync("sh", ["-c", `ls ${dir} | grep -c '^apiserver-proxy.cfg.' || true`], { encoding: "utf8" }).stdout.trim();
    expect(leftovers).toBe("0"); // no temporary copy left behind, installed or refused
    if (r.status === 0 && candidate) expect(statSync(liveFile).mode & 0o777).toBe(0o644);
    return {
      status: r.status,
      stderr: r.stderr,
      live: readFileSync(liveFile, "utf8"),
      reloads: existsSync(argsFile) ? readFileSync(argsFile, "utf8").trim().split("\n") : [],
    };
  });
}

const boot = exampleNodes["aws worker"].controlPlanes;
const table = (cps: { name: string; ip: string }[]) =>
  parseNodeTable(
    JSON.stringify({
      podCidrs: ["10.244.0.0/16"],
      nodes: [...cps.map((cp) => ({ name: cp.name, role: "control-plane", addresses: [cp.ip] })), { name: "w", role: "worker", addresses: ["203.0.113.250"] }],
    }),
  );
/** What the agent writes for these control planes (its renderer, the test's CA path). */
const agentCopy = (cps: { name: string; ip: string }[]) => (ca: string) => proxyConfigOf(table(cps))!.replace("/etc/wg-mesh/cluster-ca.crt", ca);
const bootConfig = (ca: string) => renderProxyConfig(boot, ca);

describe("wg-mesh-apiserver-proxy-sync", () => {
  it("installs the agent's copy with a control plane added, and reloads the proxy", () => {
    const grown = [...boot, { name: "demo-aws-cp-9", ip: "203.0.113.99" }];
    const r = sync(bootConfig, agentCopy(grown));
    expect([r.status, r.reloads]).toEqual([0, [`try-reload-or-restart ${PROXY_UNIT}`]]);
    expect(r.live).toBe(agentCopy(grown)(r.live.match(/ca-file (\S+)/)![1]));
    expect(r.live).toContain("  server demo-aws-cp-9 203.0.113.99:6443");
    expect(r.stderr).toMatch(/installed backends: .*demo-aws-cp-9=203\.0\.113\.99:6443/);
  });

  it("a control plane removed leaves the backends", () => {
    const r = sync(bootConfig, agentCopy(boot.slice(1)));
    expect(r.status).toBe(0);
    expect(r.live).not.toContain(`server ${boot[0].name} `);
    expect(r.reloads).toHaveLength(1);
  });

  it("--no-reload (before the proxy starts) installs without reloading", () => {
    const r = sync(bootConfig, agentCopy(boot.slice(1)), ["--no-reload"]);
    expect([r.status, r.reloads]).toEqual([0, []]);
    expect(r.live).not.toContain(`server ${boot[0].name} `);
  });

  it("no copy yet, or the same bytes: nothing installed, nothing reloaded", () => {
    for (const candidate of [undefined, bootConfig]) {
      const r = sync(bootConfig, candidate);
      expect([r.status, r.reloads, r.stderr]).toEqual([0, [], ""]);
    }
  });

  it.each([
    [
      "no control plane",
      (ca: string) =>
        bootConfig(ca)
          .split("\n")
          .filter((l) => !l.startsWith("  server "))
          .join("\n"),
      /lists no control plane/,
    ],
    [
      "a server line with options of its own",
      (ca: string) => bootConfig(ca).replace(/(  server \S+ \S+)$/m, "$1 check-ssl verify none"),
      /not '  server <name> <IPv4>:6443'/,
    ],
    ["a server on another port", (ca: string) => bootConfig(ca).replace(/:6443$/m, ":8443"), /not '  server <name> <IPv4>:6443'/],
    [
      "another line changed (verification off)",
      (ca: string) => bootConfig(ca).replace("verify required", "verify none"),
      /differs in more than the backend servers/,
    ],
    [
      "a line added",
      (ca: string) => bootConfig(ca).replace("backend control-planes\n", "backend control-planes\n  http-check disable-on-404\n"),
      /differs in more than the backend servers/,
    ],
    ["an address haproxy refuses", (ca: string) => bootConfig(ca).replace(/ \S+:6443$/m, " 999.0.0.1:6443"), /refused by haproxy -c/],
  ])("refuses %s: the configuration in place stays, nothing reloads, the unit fails", (_case, candidate, why) => {
    const r = sync(bootConfig, candidate);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain("kept ");
    expect([r.live, r.reloads]).toEqual([renderProxyConfig(boot, r.live.match(/ca-file (\S+)/)![1]), []]);
  });
});

describe("the proxy's units", () => {
  it("the path unit watches the file the agent writes in its state directory", () => {
    expect(PROXY_CANDIDATE_FILE).toBe(`${STATE_DIR}/apiserver-proxy.cfg`);
    expect(PROXY_SYNC_PATH_UNIT_CONTENT).toContain(`PathChanged=${PROXY_CANDIDATE_FILE}`);
  });

  it("the proxy installs the agent's newer copy before every start (privileged, failure tolerated) and checks before it reloads", () => {
    expect(PROXY_UNIT_CONTENT).toMatch(/^ExecStartPre=-\+\/usr\/local\/sbin\/wg-mesh-apiserver-proxy-sync --no-reload$/m);
    const reload = PROXY_UNIT_CONTENT.split("\n").filter((l) => l.startsWith("ExecReload="));
    expect(reload).toEqual(["ExecReload=/usr/sbin/haproxy -c -q -f /etc/wg-mesh/apiserver-proxy.cfg", "ExecReload=/bin/kill -USR2 $MAINPID"]);
  });
});
