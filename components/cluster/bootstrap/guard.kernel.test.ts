// The boot guard as a node runs it, in a throwaway network namespace: the guard script, env file
// and ruleset exactly as the user data ships them, run by real bash with the real `ip` and `nft`.
// The underlay is a veth the script must detect (it holds the default route); the ruleset is loaded
// into the kernel, not only checked (`nft -c` would miss what the kernel refuses). The ruleset may
// match sockets by cgroup v2 path (the metadata rule), which nft resolves under /sys/fs/cgroup when
// it loads: the script runs in its own mount and cgroup namespaces, rooted at a scratch cgroup of
// this test, where the cgroups the ruleset names are created (never in the host's own hierarchy,
// which other tests on this machine share) and removed afterwards.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { parseCloudConfig, requireTool, writtenFile } from "../../../test/tools";
import { renderCloudInit } from "./cloudInit";
import { GUARD_TABLE_REFS } from "../../../agent/src/guard";
import { bootGuardNodes, GUARD_BOOT_RULESET_FILE, packBootGuardNodes, unpackBootGuardNodes } from "./bootGuard";
import { ENV_FILE } from "./bootstrapEnv";
import { GUARD_SCRIPT_PATH } from "./guardUnits";

const NS = `wgmesh-bootguard-${process.pid}`;
const SCRATCH_CGROUP = `wgmesh-bootguard-${process.pid}`;
let dir: string;

const sh = (args: string[]) => spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 30_000 });
function must(args: string[]): string {
  const r = sh(args);
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    ["nft", "nftables"],
    ["unshare", "util-linux"],
    ["bash", "bash"],
  ])
    requireTool(tool, pkg);
  if (process.getuid?.() !== 0) throw new Error("this test creates a network namespace and loads nftables: run it as root");
  dir = mkdtempSync(join(tmpdir(), "wgmesh-bootguard-"));
  must(["ip", "netns", "add", NS]);
  must(["ip", "-n", NS, "link", "add", "ul0", "type", "veth", "peer", "name", "ul1"]);
  for (const dev of ["lo", "ul0", "ul1"]) must(["ip", "-n", NS, "link", "set", dev, "up"]);
  must(["ip", "-n", NS, "addr", "add", "10.99.0.2/24", "dev", "ul0"]);
  must(["ip", "-n", NS, "route", "add", "default", "via", "10.99.0.1", "dev", "ul0"]);
});

afterAll(() => {
  sh(["ip", "netns", "del", NS]);
  // The scratch cgroup and whatever the run left in it (it holds no process any more).
  const mnt = join(dir, "cgroup2");
  mkdirSync(mnt, { recursive: true });
  sh([
    "unshare",
    "--mount",
    "sh",
    "-c",
    `mount -t cgroup2 none "$1" && if [ -d "$1/$2" ]; then find "$1/$2" -mindepth 1 -depth -type d -exec rmdir {} + ; rmdir "$1/$2"; fi`,
    "_",
    mnt,
    SCRATCH_CGROUP,
  ]);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the shipped guard.sh in the namespace, with every cgroup the ruleset names present; stderr is its log. */
function bootGuard(files: { env: string; boot: string; state: string; nodes: string }, cgroups: string[]) {
  const inner = [
    "umount /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup || exit 97",
    `for c in ${cgroups.map((c) => `'${c}'`).join(" ")}; do mkdir -p "/sys/fs/cgroup/$c" || exit 98; done`,
    `WG_MESH_ENV_FILE='${files.env}' WG_MESH_BOOT_RULESET='${files.boot}' WG_MESH_STATE_RULESET='${files.state}' WG_MESH_BOOT_NODES='${files.nodes}' WG_MESH_RUN_DIR='${join(dir, "run")}' bash '${join(dir, "guard.sh")}'`,
  ].join("\n");
  const outer = [
    "mount -t cgroup2 none /sys/fs/cgroup || exit 95",
    `mkdir -p /sys/fs/cgroup/${SCRATCH_CGROUP} && echo $$ >/sys/fs/cgroup/${SCRATCH_CGROUP}/cgroup.procs || exit 96`,
    'exec unshare --cgroup --mount sh -c "$1"',
  ].join("\n");
  return spawnSync("ip", ["netns", "exec", NS, "unshare", "--mount", "sh", "-c", outer, "_", inner], { encoding: "utf8", timeout: 30_000 });
}

describe.each(["aws worker", "gcp first control-plane"])("the boot ruleset of the %s", (name) => {
  const node = exampleNodes[name];
  const config = parseCloudConfig(renderCloudInit(node));
  const ruleset = writtenFile(config, GUARD_BOOT_RULESET_FILE).content;
  const cgroups = [...ruleset.matchAll(/cgroupv2 level 1 (\{[^}]*\}|"[^"]*")/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((q) => q[1]));

  /** The shipped script, env file and boot ruleset written to the scratch directory; the state and node-address files named. */
  function bootFiles(state: string, nodes: string) {
    const files = { env: join(dir, "bootstrap.env"), boot: join(dir, "boot-guard.nft"), state: join(dir, state), nodes: join(dir, nodes) };
    writeFileSync(join(dir, "guard.sh"), writtenFile(config, GUARD_SCRIPT_PATH).content);
    writeFileSync(files.env, writtenFile(config, ENV_FILE).content);
    writeFileSync(files.boot, ruleset);
    return files;
  }

  it("loads into the kernel with the detected underlay; a newer ruleset nft refuses falls back to it", () => {
    const files = bootFiles("state-guard.nft", "guard-nodes.nft");
    // What the bootstrap fetched from the store: the same document for every node.
    writeFileSync(files.nodes, unpackBootGuardNodes(packBootGuardNodes(bootGuardNodes(node.nodeTable, node.guard))));
    // A persisted ruleset newer than the boot one, which the kernel's nft refuses.
    writeFileSync(files.state, "table inet node_router_guard {\n  chain output {\n    no such statement\n  }\n}\n");
    utimesSync(files.boot, 1_000, 1_000);
    sh(["ip", "netns", "exec", NS, "nft", "flush", "ruleset"]);

    const r = bootGuard(files, cgroups);
    expect(r.stderr).toContain(`nft refused ${files.state} (exit 1): `);
    expect(r.stderr).toContain(`egress guard loaded from ${files.boot} (underlay: ul0)`);
    expect(r.status).toBe(0);

    const listing = must(["ip", "netns", "exec", NS, "nft", "list", "ruleset"]);
    const tables = [...ruleset.matchAll(/^table (\w+) (\w+) \{$/gm)].map((m) => `table ${m[1]} ${m[2]} {`);
    expect(tables).toContain("table inet node_router_guard {");
    for (const t of tables) expect(listing).toContain(t);
    // Every use of $UNDERLAY became the detected device.
    expect(listing.match(/\bul0\b/g)?.length ?? 0).toBeGreaterThanOrEqual(ruleset.match(/\$UNDERLAY\b/g)?.length ?? 0);
    // Every other node's first address in both tables' maps, with its role's chain; the node's own in neither.
    const table = JSON.parse(node.nodeTable) as { nodes: { name: string; role: string; addresses: string[] }[] };
    const others = table.nodes.filter((n) => n.name !== node.nodeName);
    expect(others.length).toBeGreaterThan(0);
    for (const ref of GUARD_TABLE_REFS) {
      const maps = must(["ip", "netns", "exec", NS, "nft", "list", "map", ...ref.split(" "), "nodes4"]);
      for (const other of others) expect(maps).toContain(`${other.addresses[0]} : jump ${other.role === "control-plane" ? "to_control_plane" : "to_node"}`);
      expect(maps).not.toContain(node.nodeIp);
    }
  });

  it("without the node addresses the boot ruleset is refused and the script fails (the kubelet stays stopped)", () => {
    const files = bootFiles("no-state.nft", "missing-nodes.nft");
    rmSync(files.state, { force: true });
    rmSync(files.nodes, { force: true });
    sh(["ip", "netns", "exec", NS, "nft", "flush", "ruleset"]);

    const r = bootGuard(files, cgroups);
    expect(r.stderr).toContain(`no node addresses at ${files.nodes}`);
    expect(r.stderr).toContain("FATAL: no egress guard");
    expect(r.status).toBe(1);
    expect(must(["ip", "netns", "exec", NS, "nft", "list", "ruleset"])).not.toContain("node_router_guard");
  });
});
