// Level-1 cgroup v2 directories for the lab (a kubepods-like one and a stand-in for
// system.slice), named after the run so parallel labs never share one and leftovers are found.
// nft's `socket cgroupv2 level 1 "NAME"` resolves NAME under /sys/fs/cgroup of the mount namespace
// nft runs in, and the cgroup must exist when the rule is loaded: processes that load the guard
// run with CGROUP2_MOUNT (a private mount namespace with cgroup v2 on /sys/fs/cgroup; a bind mount
// fails under `ip netns exec`, which remounts /sys).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Shell prefix for `sh -c`: cgroup v2 on /sys/fs/cgroup in the (already private) mount namespace. */
export const CGROUP2_MOUNT = "mount -t cgroup2 none /sys/fs/cgroup";

/** Where cgroup v2 is mounted on this host: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
export function cgroup2Root(): string {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "));
  const found = mounts.find((m) => m[2] === "cgroup2")?.[1];
  if (!found) throw new Error("no cgroup v2 mount in /proc/self/mounts: the metadata guard needs cgroup v2 (mount -t cgroup2 none /sys/fs/cgroup/unified)");
  return found;
}

export class LabCgroups {
  private readonly made = new Set<string>();

  constructor(private readonly id: string) {}

  /** The level-1 cgroup `<run id>-<kind>` (created on first use); returns its name and absolute path. */
  get(kind: string): { name: string; path: string } {
    const name = `${this.id}-${kind}`;
    const path = join(cgroup2Root(), name);
    if (!existsSync(path)) mkdirSync(path);
    this.made.add(path);
    return { name, path };
  }

  /** Removes every cgroup made (their processes have exited by then). Never throws. */
  removeAll(): void {
    for (const path of this.made) removeCgroup(path);
    this.made.clear();
  }
}

/** Moves any process left back to the root cgroup, then removes the directory. Never throws. */
export function removeCgroup(path: string): void {
  try {
    const root = join(path, "..", "cgroup.procs");
    for (const pid of readFileSync(join(path, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
      try {
        writeFileSync(root, pid);
      } catch {
        // exited meanwhile
      }
    }
    rmdirSync(path);
  } catch {
    // already gone
  }
}

/** Level-1 cgroups whose name starts with `prefix` (leftover cleanup). */
export function cgroupsNamed(prefix: string): string[] {
  try {
    const root = cgroup2Root();
    return readdirSync(root)
      .filter((n) => n.startsWith(prefix))
      .map((n) => join(root, n));
  } catch {
    return [];
  }
}

/** Removes the lab cgroups whose run is gone (`stale(name)`), as cleanupLeftovers does for namespaces. */
export function cleanupStaleCgroups(prefix: string, stale: (name: string) => boolean): void {
  for (const path of cgroupsNamed(prefix)) if (stale(path.split("/").pop()!)) removeCgroup(path);
}
