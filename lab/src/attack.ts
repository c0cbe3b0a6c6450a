// Runs the lab's attacker (lab/scripts/attack.py) inside a namespace, as root, as an
// unprivileged user, or with CAP_NET_RAW alone (what container runtimes grant by default), and
// optionally inside one of the lab's cgroups. Every probe carries a payload marker; the capture
// (capture.ts, pcap.ts) counts the frames on the underlay that carry it.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./exec";

export type Privilege = "root" | "nobody" | "net-raw";

/** util-linux setpriv (2.38 verified): user and group nobody, no supplementary groups, and either no
 * capability at all or CAP_NET_RAW alone (inheritable + ambient, so python3 keeps it; bounding set
 * cut to it, so nothing can be regained). */
const SETPRIV: Record<Exclude<Privilege, "root">, string[]> = {
  nobody: ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps", "-all", "--ambient-caps", "-all", "--bounding-set", "-all"],
  "net-raw": [
    "setpriv",
    "--reuid",
    "65534",
    "--regid",
    "65534",
    "--clear-groups",
    "--inh-caps",
    "-all,+net_raw",
    "--ambient-caps",
    "-all,+net_raw",
    "--bounding-set",
    "-all,+net_raw",
  ],
};

export type Probe = "tcp" | "udp" | "dns" | "raw-tcp" | "icmp-error" | "frame";

export interface AttackArgs {
  host: string;
  port?: number;
  /** The marker this probe carries (usually `${testMarker}-${label}`, see probeMarker). */
  marker: string;
  mark?: number;
  bindDev?: string;
  src?: string;
  sport?: number;
  count?: number;
  wait?: boolean;
  size?: number;
  srcMac?: string;
  dstMac?: string;
  timeoutS?: number;
}

export interface AttackResult {
  ok: boolean;
  error?: string;
  bytes?: number;
  answer?: string;
  sent?: number;
}

export interface AttackOptions {
  as?: Privilege;
  /** A cgroup v2 directory (absolute path) to run the attacker in: its sockets belong to it. */
  cgroup?: string;
}

/** A unique marker for one test: random, so no other traffic can carry it by chance. */
export function newMarker(): string {
  return `NRLABMK${randomBytes(8).toString("hex")}`;
}

const script = () => readFileSync(join(repoRoot(__dirname), "lab", "scripts", "attack.py"), "utf8");

function argv(probe: Probe, a: AttackArgs): string[] {
  const opt = (name: string, v: string | number | undefined) => (v === undefined ? [] : [`--${name}`, String(v)]);
  return [
    probe,
    "--host",
    a.host,
    "--marker",
    a.marker,
    ...opt("port", a.port),
    ...opt("mark", a.mark === undefined ? undefined : "0x" + a.mark.toString(16)),
    ...opt("bind-dev", a.bindDev),
    ...opt("src", a.src),
    ...opt("sport", a.sport),
    ...opt("count", a.count),
    ...(a.wait ? ["--wait"] : []),
    ...opt("size", a.size),
    ...opt("src-mac", a.srcMac),
    ...opt("dst-mac", a.dstMac),
    ...opt("timeout", a.timeoutS),
  ];
}

/** The system's python3: a per-user one (pyenv under /root) is not executable by nobody. */
export const PYTHON = "/usr/bin/python3";

/** The command line: [cgroup join] -> ip netns exec -> [setpriv] -> python3 (script on stdin, so no file permission matters). */
export function attackCommand(ns: string, probe: Probe, a: AttackArgs, o: AttackOptions = {}): string[] {
  const inCgroup = o.cgroup ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', o.cgroup] : [];
  const priv = o.as && o.as !== "root" ? SETPRIV[o.as] : [];
  return [...inCgroup, "ip", "netns", "exec", ns, ...priv, PYTHON, "-", ...argv(probe, a)];
}

/** Runs one probe (asynchronously: the capture keeps reading meanwhile). */
export function attack(ns: string, probe: Probe, a: AttackArgs, o: AttackOptions = {}): Promise<AttackResult> {
  const [cmd, ...args] = attackCommand(ns, probe, a, o);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as AttackResult);
      } catch {
        reject(new Error(`attack ${probe} in ${ns} (${o.as ?? "root"}) exited ${code} without a result: ${err.trim() || out.trim()}`));
      }
    });
    child.stdin.end(script());
  });
}

/** Label of the probe that carried a marker (`<marker>-<label>`), read back from captured bytes. */
export function probeLabel(data: Buffer, marker: string): string {
  const at = data.indexOf(Buffer.from(marker + "-", "latin1"));
  if (at < 0) return "?";
  return /^[a-z0-9:._-]*/i.exec(data.subarray(at + marker.length + 1, at + marker.length + 80).toString("latin1"))![0];
}
