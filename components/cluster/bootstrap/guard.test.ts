// The boot-time guard script (guard.sh) in real bash with `nft` and `ip` stubbed by scripts on
// PATH (the stub nft records its arguments and what it loaded, and refuses the rulesets it is told
// to, known by their first line; the stub ip prints
// the one-line output the test gives it) and sysfs and cgroupfs as directories: the newest
// ruleset wins, the other is the fallback, neither loaded fails (so the kubelet, which requires
// the unit, stays stopped); the underlay is detected as the agent detects it unless listed; cgroup
// v2 is required. guardKernel.test.ts loads the rendered ruleset with the real nft.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { requireTool, withTempDir } from "../../../test/tools";
import { exampleNodes, exampleNodeTable } from "../../../test/fixtures/bootstrap";
import { bootGuardNodes, GUARD_BOOT_NODES_FILE, GUARD_BOOT_RULESET_FILE, GUARD_STATE_RULESET_FILE } from "./bootGuard";
import { ENV_FILE } from "./bootstrapEnv";

beforeAll(() => requireTool("bash", "bash"));

// Each ruleset's first line is "# <which>": the stub logs "-D <define> -f <which>" and keeps what it loaded.
const NFT = `#!/bin/bash
file=\${@: -1}
which=$(head -n 1 "$file")
which=\${which:2}
echo "$1 $2 -f $which" >>"$STUB/nft.args"
cp "$file" "$STUB/loaded-$which"
for refused in $NFT_REFUSES; do
  [[ "$which" == "$refused" ]] && { echo "Error: syntax error in $file" >&2; echo "unexpected token" >&2; exit 1; }
done
exit 0
`;
// Prints $STUB/route4, route6 or addr: what \`ip -o -4 route show default\` etc. would print.
const IP = `#!/bin/bash
case "$*" in
  "-o -4 route show default") cat "$STUB/route4" 2>/dev/null ;;
  "-o -6 route show default") cat "$STUB/route6" 2>/dev/null ;;
  "-o addr show to "*) cat "$STUB/addr" 2>/dev/null ;;
  *) echo "unexpected ip $*" >&2; exit 1 ;;
esac
`;

interface Scenario {
  /** Seconds since the epoch of each ruleset; absent = no such file. */
  state?: number;
  boot?: number;
  /** Rulesets nft refuses ("state", "boot"). */
  refuses?: ("state" | "boot")[];
  route4?: string;
  route6?: string;
  addr?: string;
  /** Devices in the fake /sys/class/net, and whether each has a `device` link (hardware). */
  sysNet?: Record<string, boolean>;
  env?: Record<string, string>;
  cgroupV2?: boolean;
  /** The node addresses the bootstrap fetched (default: the program's document for the example table); null = none. */
  nodes?: string | null;
}

/** The program's store document for the example cluster, which lists this node (203.0.113.50) too. */
const NODES = bootGuardNodes(exampleNodeTable, exampleNodes["aws worker"].guard);

function runGuard(s: Scenario) {
  return withTempDir((dir) => {
    const bin = join(dir, "bin");
    const stub = join(dir, "stub");
    const sysNet = join(dir, "sys-class-net");
    const cgroup = join(dir, "cgroup");
    for (const d of [bin, stub, sysNet, cgroup]) mkdirSync(d);
    writeFileSync(join(dir, "lxc-not-a-device"), ""); // the script's working directory: see the glob test
    for (const [name, text] of [
      ["nft", NFT],
      ["ip", IP],
    ]) {
      writeFileSync(join(bin, name), text);
      chmodSync(join(bin, name), 0o755);
    }
    for (const [name, text] of [
      ["route4", s.route4],
      ["route6", s.route6],
      ["addr", s.addr],
    ] as const)
      if (text !== undefined) writeFileSync(join(stub, name), text);
    for (const [dev, hardware] of Object.entries(s.sysNet ?? { ens5: true, lo: false })) {
      mkdirSync(join(sysNet, dev));
      if (hardware) writeFileSync(join(sysNet, dev, "device"), "");
    }
    if (s.cgroupV2 !== false) writeFileSync(join(cgroup, "cgroup.controllers"), "cpu memory pids\n");
    const files = { state: join(dir, "state.nft"), boot: join(dir, "boot.nft"), nodes: join(dir, "guard-nodes.nft") };
    const nodes = s.nodes === undefined ? NODES : s.nodes;
    if (nodes !== null) writeFileSync(files.nodes, nodes);
    for (const which of ["state", "boot"] as const) {
      const at = s[which];
      if (at === undefined) continue;
      writeFileSync(files[which], `# ${which}\n`);
      utimesSync(files[which], at, at);
    }
    writeFileSync(
      join(dir, "bootstrap.env"),
      [
        "NODE_IP='203.0.113.50'",
        "GUARD_DEVICE='cilium_wg0'",
        "GUARD_LOCAL_INTERFACES='lo,cilium_host,cilium_net,lxc*'",
        ...Object.entries(s.env ?? {}).map(([k, v]) => `${k}='${v}'`),
        "",
      ].join("\n"),
    );
    const r = spawnSync("bash", [join(__dirname, "guard.sh")], {
      encoding: "utf8",
      timeout: 30_000,
      cwd: dir,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        STUB: stub,
        NFT_REFUSES: (s.refuses ?? []).join(" "),
        WG_MESH_ENV_FILE: join(dir, "bootstrap.env"),
        WG_MESH_BOOT_RULESET: files.boot,
        WG_MESH_STATE_RULESET: files.state,
        WG_MESH_BOOT_NODES: files.nodes,
        WG_MESH_RUN_DIR: join(dir, "run"),
        WG_MESH_SYS_NET: sysNet,
        WG_MESH_CGROUP_ROOT: cgroup,
      },
    });
    const args = existsSync(join(stub, "nft.args")) ? readFileSync(join(stub, "nft.args"), "utf8").trim().split("\n") : [];
    const copies = Object.fromEntries(
      (["boot", "state"] as const).map((w) => [w, existsSync(join(stub, `loaded-${w}`)) ? readFileSync(join(stub, `loaded-${w}`), "utf8") : undefined]),
    );
    const loaded = (which: "boot" | "state") => copies[which];
    const leftovers = existsSync(join(dir, "run")) ? readdirSync(join(dir, "run")) : [];
    return { status: r.status, log: r.stderr, stdout: r.stdout, args, files, loaded, leftovers };
  });
}

describe("which ruleset", () => {
  it("loads the persisted ruleset when it is the newer, with the underlay as a define", () => {
    const r = runGuard({ boot: 1_000, state: 2_000 });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f state`]);
    expect(r.log).toContain(`egress guard loaded from ${r.files.state} (underlay: ens5)`);
  });

  it("loads the boot files' ruleset when it is the newer (the instance was re-created since)", () => {
    const r = runGuard({ boot: 3_000, state: 2_000 });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f boot`]);
  });

  it("loads the boot files' ruleset on the first boot (nothing persisted yet)", () => {
    const r = runGuard({ boot: 1_000 });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f boot`]);
  });

  it("falls back to the other ruleset when nft refuses the newest, and says why", () => {
    const r = runGuard({ boot: 1_000, state: 2_000, refuses: ["state"] });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f state`, `-D UNDERLAY={ { "ens5" } } -f boot`]);
    expect(r.log).toContain(`nft refused ${r.files.state} (exit 1): Error: syntax error in ${r.files.state} | unexpected token`);
    expect(r.log).toContain(`egress guard loaded from ${r.files.boot}`);
  });

  it("fails (the kubelet stays stopped) when nft refuses both", () => {
    const r = runGuard({ boot: 1_000, state: 2_000, refuses: ["state", "boot"] });
    expect(r.status).toBe(1);
    expect(r.args).toHaveLength(2);
    expect(r.log).toMatch(/FATAL: no egress guard: no ruleset could be loaded .*; the kubelet stays stopped \(it requires wg-mesh-guard\.service\)/);
  });

  it("fails when there is no ruleset at all", () => {
    const r = runGuard({});
    expect(r.status).toBe(1);
    expect(r.args).toEqual([]);
    expect(r.log).toContain(`FATAL: no ruleset: neither ${r.files.state} nor ${r.files.boot} exists`);
  });
});

describe("the boot ruleset's node addresses (fetched from the store by the bootstrap)", () => {
  const others = (JSON.parse(exampleNodeTable) as { nodes: { name: string; role: string; addresses: string[] }[] }).nodes.filter(
    (n) => n.addresses[0] !== "203.0.113.50",
  );

  it("are appended to it, each for both tables, the node's own address left out", () => {
    const r = runGuard({ boot: 1_000 });
    expect(r.status).toBe(0);
    const loaded = r.loaded("boot")!;
    expect(loaded.startsWith("# boot\n")).toBe(true);
    expect(others.length).toBeGreaterThan(1);
    for (const n of others) {
      const chain = n.role === "control-plane" ? "to_control_plane" : "to_node";
      expect(loaded).toContain(`add element inet node_router_guard nodes4 { ${n.addresses[0]} : jump ${chain} }\n`);
      expect(loaded).toContain(`add element netdev node_router_guard_underlay nodes4 { ${n.addresses[0]} : jump ${chain} }\n`);
    }
    expect(loaded).not.toContain("203.0.113.50");
    expect(loaded.trim().split("\n")).toHaveLength(1 + 2 * others.length);
    // The composed copy is removed after loading.
    expect(r.leftovers).toEqual([]);
  });

  it("are not needed for the persisted ruleset (it holds its own)", () => {
    const r = runGuard({ boot: 1_000, state: 2_000, nodes: null });
    expect(r.status).toBe(0);
    expect(r.loaded("state")).toBe("# state\n");
  });

  it.each([
    ["missing", null, "no node addresses at"],
    [
      "holding another command (a hostile store value)",
      NODES.replace(/\n$/, "\nflush ruleset\n").replace(/(\d+) statements/, (_, n) => `${Number(n) + 1} statements`),
      "is not a node address element: flush ruleset",
    ],
    [
      "holding an element of another map",
      NODES.replace("nodes4 {", "exempt_ports {"),
      "is not a node address element: add element inet node_router_guard exempt_ports",
    ],
    ["cut short", NODES.split("\n").slice(0, -2).join("\n") + "\n", "where its header says"],
    ["without its header", NODES.split("\n").slice(1).join("\n"), "its first line is not the node-address header"],
  ])("%s: the boot ruleset is not loaded (the persisted one is, or the script fails)", (_, nodes, why) => {
    const alone = runGuard({ boot: 3_000, nodes });
    expect(alone.status).toBe(1);
    expect(alone.args).toEqual([]);
    expect(alone.log).toContain(why);
    expect(alone.log).toContain("FATAL: no egress guard");
    const fallback = runGuard({ boot: 3_000, state: 2_000, nodes });
    expect(fallback.status).toBe(0);
    expect(fallback.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f state`]);
  });
});

describe("underlay devices", () => {
  it("are the default routes' devices (both families, multipath too), the device holding NODE_IP and hardware devices, minus loopback, WireGuard and local interfaces", () => {
    const r = runGuard({
      boot: 1_000,
      route4: "default via 10.0.0.1 dev ens5 proto dhcp src 10.0.0.5 metric 100 \n",
      route6: "default proto ra metric 1024 pref medium\\\tnexthop via fe80::1 dev ens6 weight 1\\\tnexthop via fe80::2 dev ens7 weight 1 \n",
      addr: "4: wgmesh0    inet 203.0.113.50/32 scope global wgmesh0\\       valid_lft forever preferred_lft forever\n",
      sysNet: { ens5: true, eth9: true, lo: false, cilium_wg0: true, lxc0a1b: true, cilium_host: true, "veth-x": false },
    });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5", "ens6", "ens7", "eth9", "wgmesh0" } } -f boot`]);
  });

  it("are the env file's list when it has one, detection aside", () => {
    const r = runGuard({ boot: 1_000, route4: "default via 10.0.0.1 dev ens5\n", env: { GUARD_UNDERLAY_DEVICES: "eth1,eth2" } });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`-D UNDERLAY={ { "eth1", "eth2" } } -f boot`]);
  });

  it("a local-interface pattern is a glob on device names, not on files", () => {
    // A file named like a device in the working directory must not turn the pattern into a file list.
    const r = runGuard({ boot: 1_000, sysNet: { ens5: true, lxc9: true }, env: { GUARD_LOCAL_INTERFACES: "lxc*" } });
    expect(r.args).toEqual([`-D UNDERLAY={ { "ens5" } } -f boot`]);
  });

  it("none found: fails naming the setting to list them", () => {
    const r = runGuard({ boot: 1_000, sysNet: { lo: false, cilium_wg0: false } });
    expect(r.status).toBe(1);
    expect(r.args).toEqual([]);
    expect(r.log).toContain("FATAL: no underlay device found (no default route, no hardware device); list them in GUARD_UNDERLAY_DEVICES in");
  });
});

it("requires cgroup v2, saying why and how, before loading anything", () => {
  const r = runGuard({ boot: 1_000, cgroupV2: false });
  expect(r.status).toBe(1);
  expect(r.args).toEqual([]);
  expect(r.log).toMatch(
    /FATAL: cgroup v2 is not mounted at .*cgroup \(no cgroup\.controllers\): the guard matches sockets by cgroup v2 path; .*systemd\.unified_cgroup_hierarchy=1/,
  );
});

it("fails without its env file, and writes nothing to stdout (stderr reaches the console)", () => {
  const r = runGuard({ boot: 1_000, env: {} });
  expect(r.stdout).toBe("");
  const missing = spawnSync("bash", [join(__dirname, "guard.sh")], {
    encoding: "utf8",
    env: { ...process.env, WG_MESH_ENV_FILE: "/nonexistent/bootstrap.env" },
  });
  expect(missing.status).toBe(1);
  expect(missing.stderr).toContain("FATAL: no env file at /nonexistent/bootstrap.env");
});

it("defaults to the paths the program writes and the agent persists to", () => {
  const script = readFileSync(join(__dirname, "guard.sh"), "utf8");
  expect(script).toContain(`ENV_FILE="\${WG_MESH_ENV_FILE:-${ENV_FILE}}"`);
  expect(script).toContain(`BOOT_RULESET="\${WG_MESH_BOOT_RULESET:-${GUARD_BOOT_RULESET_FILE}}"`);
  expect(script).toContain(`STATE_RULESET="\${WG_MESH_STATE_RULESET:-${GUARD_STATE_RULESET_FILE}}"`);
  expect(script).toContain(`BOOT_NODES="\${WG_MESH_BOOT_NODES:-${GUARD_BOOT_NODES_FILE}}"`);
  expect(readFileSync(join(__dirname, "bootstrap.sh"), "utf8")).toContain(`BOOT_NODES="\${WG_MESH_BOOT_NODES:-${GUARD_BOOT_NODES_FILE}}"`);
  expect(script).toContain('SYS_NET="${WG_MESH_SYS_NET:-/sys/class/net}"');
  expect(script).toContain('CGROUP_ROOT="${WG_MESH_CGROUP_ROOT:-/sys/fs/cgroup}"');
});
