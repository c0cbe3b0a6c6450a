// Namespaces and links: an underlay namespace holding the bridge (so lab traffic never touches
// the root namespace), one namespace per node (its host network) and one per pod.
import { readdirSync } from "node:fs";
import { cleanupStaleCgroups } from "./cgroups";
import { ipIn, run, sysctl } from "./exec";
import { IFACE, NAME_PREFIX, pidOfName, type LabPlan, type NodePlan } from "./plan";

/** Sysctls every lab namespace gets: forwarding on (nodes route for pods), no reverse-path
 * filter (decrypted packets arrive on cilium_wg0, replies may leave elsewhere), no IPv6 (the
 * lab is IPv4; this keeps neighbour discovery noise off the capture). */
const NS_SYSCTLS = {
  "net.ipv4.ip_forward": 1,
  "net.ipv4.conf.all.rp_filter": 0,
  "net.ipv4.conf.default.rp_filter": 0,
  "net.ipv6.conf.all.disable_ipv6": 1,
  "net.ipv6.conf.default.disable_ipv6": 1,
  // TCP Fast Open for clients, without a cookie: the attacker's SYN carries its payload marker
  // (lab/scripts/attack.py), so a SYN that leaves in the clear is seen even when nothing answers.
  "net.ipv4.tcp_fastopen": 5,
};

export function listNamespaces(): string[] {
  try {
    return readdirSync("/run/netns");
  } catch {
    return [];
  }
}

function addNamespace(ns: string): void {
  run("ip", ["netns", "add", ns]);
  sysctl(ns, NS_SYSCTLS);
  ipIn(ns, "link set lo up");
}

export function createUnderlay(plan: LabPlan): void {
  addNamespace(plan.underlayNs);
  ipIn(plan.underlayNs, `link add ${plan.bridge} type bridge`);
  ipIn(plan.underlayNs, `link set ${plan.bridge} up`);
}

/** A node namespace wired to the bridge, and its pod namespace wired to the node. */
export function createNodeNamespaces(plan: LabPlan, node: NodePlan): void {
  addNamespace(node.ns);
  addNamespace(node.podNs);
  ipIn(node.ns, `link add ${IFACE.underlay} type veth peer name ${node.bridgePort} netns ${plan.underlayNs}`);
  ipIn(plan.underlayNs, `link set ${node.bridgePort} master ${plan.bridge} up`);
  ipIn(node.ns, `addr add ${node.underlayIp}/24 dev ${IFACE.underlay}`);
  ipIn(node.ns, `link set ${IFACE.underlay} up`);

  ipIn(node.ns, `link add ${IFACE.podVeth} type veth peer name ${IFACE.podEth} netns ${node.podNs}`);
  ipIn(node.ns, `addr add ${node.podGateway}/32 dev ${IFACE.podVeth}`);
  ipIn(node.ns, `link set ${IFACE.podVeth} up`);
  ipIn(node.ns, `route add ${node.podIp}/32 dev ${IFACE.podVeth}`);
  ipIn(node.podNs, `addr add ${node.podIp}/32 dev ${IFACE.podEth}`);
  ipIn(node.podNs, `link set ${IFACE.podEth} up`);
  ipIn(node.podNs, `route add ${node.podGateway}/32 dev ${IFACE.podEth} scope link`);
  ipIn(node.podNs, `route add default via ${node.podGateway} dev ${IFACE.podEth}`);
}

/** The node's other addresses: a private IPv4 address and IPv6 (link-local only; no DAD wait) on its underlay interface. */
export function addPrivateAddresses(node: NodePlan): void {
  ipIn(node.ns, `addr add ${node.privateIp}/24 dev ${IFACE.underlay}`);
  sysctl(node.ns, { [`net.ipv6.conf.${IFACE.underlay}.accept_dad`]: 0, [`net.ipv6.conf.${IFACE.underlay}.disable_ipv6`]: 0 });
}

/** The IPv6 link-local address of the node's underlay interface. */
export function linkLocalAddress(node: NodePlan): string {
  const ifs = JSON.parse(ipIn(node.ns, `-6 -j addr show dev ${IFACE.underlay} scope link`).stdout) as { addr_info: { local: string }[] }[];
  const a = ifs[0]?.addr_info[0]?.local;
  if (!a) throw new Error(`${node.name} has no IPv6 link-local address on ${IFACE.underlay} (lab built without privateAddresses?)`);
  return a;
}

/** Process ids living in a namespace (all started by this lab). */
export function pidsIn(ns: string): number[] {
  const r = run("ip", ["netns", "pids", ns], { allowFailure: true });
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 0 && n !== process.pid);
}

/** Kills what runs in the namespaces (by pid), then deletes them. Never throws. */
export function deleteNamespaces(names: string[]): void {
  for (const ns of names) {
    for (const pid of pidsIn(ns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const ns of names) run("ip", ["netns", "del", ns], { allowFailure: true });
}

export function deleteNodeNamespaces(node: NodePlan): void {
  deleteNamespaces([node.ns, node.podNs]);
}

/** Every namespace of this run (whatever nodes came and went). */
export function destroyRun(id: string): void {
  deleteNamespaces(listNamespaces().filter((ns) => ns.startsWith(`${id}-`)));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes namespaces left by lab runs whose process is gone; returns what it removed. */
export function cleanupLeftovers(): string[] {
  const isStale = (name: string) => name.startsWith(NAME_PREFIX) && !alive(pidOfName(name) ?? process.pid);
  const stale = listNamespaces().filter(isStale);
  deleteNamespaces(stale);
  cleanupStaleCgroups(NAME_PREFIX, isStale);
  return stale;
}
