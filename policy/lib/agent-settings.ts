// The node-router agent's settings the pack checks, by flag and environment variable (the agent
// reads a flag first, then NODE_ROUTER_*, then its default; agent/src/settings.ts is the source,
// a test keeps this table equal to it), and what makes a value defeat the agent:
//   exempt ports beyond the bootstrap set (by any name that ends in EXEMPT_PORTS / exempt-ports),
//   a device other than the WireGuard device, a mark/mask that matches more than WireGuard's own
//   packets, a control-plane selector every node matches. A value the agent rejects counts too:
//   the agent then does not start and nothing is steered.
// Other settings (and names the pack does not know, e.g. NODE_ROUTER_NODE_TABLE) are not its
// business: they cannot send node traffic around WireGuard.
import { formatPorts, parsePorts, uncovered, type PortRange } from "./ports";

export type AgentSetting = "exemptPorts" | "device" | "wgMark" | "wgMask" | "controlPlaneSelector" | "localInterfaces";

export const AGENT_SETTINGS: Record<AgentSetting, { flag: string; env: string; default: string }> = {
  device: { flag: "device", env: "NODE_ROUTER_DEVICE", default: "cilium_wg0" },
  wgMark: { flag: "wg-mark", env: "NODE_ROUTER_WG_MARK", default: "0xe00" },
  wgMask: { flag: "wg-mask", env: "NODE_ROUTER_WG_MASK", default: "0xf00" },
  exemptPorts: { flag: "exempt-ports", env: "NODE_ROUTER_EXEMPT_PORTS", default: "6443,2379-2380" },
  controlPlaneSelector: { flag: "control-plane-selector", env: "NODE_ROUTER_CONTROL_PLANE_SELECTOR", default: "node-role.kubernetes.io/control-plane" },
  // The egress guard lets cluster traffic leave only through these local interfaces.
  localInterfaces: { flag: "local-interfaces", env: "NODE_ROUTER_LOCAL_INTERFACES", default: "lo,cilium_host,cilium_net,lxc*" },
};

const EXEMPT_ENV = /^([A-Z0-9]+_)*EXEMPT_PORTS$/;
const EXEMPT_FLAG = /^([a-z0-9]+-)*exempt-ports$/;

/** The setting an environment variable name sets, if any. */
export function settingOfEnv(name: string): AgentSetting | undefined {
  if (EXEMPT_ENV.test(name)) return "exemptPorts";
  return (Object.keys(AGENT_SETTINGS) as AgentSetting[]).find((s) => AGENT_SETTINGS[s].env === name);
}

/** The setting a flag name (without dashes) sets, if any. */
export function settingOfFlag(flag: string): AgentSetting | undefined {
  if (EXEMPT_FLAG.test(flag)) return "exemptPorts";
  return (Object.keys(AGENT_SETTINGS) as AgentSetting[]).find((s) => AGENT_SETTINGS[s].flag === flag);
}

export interface AgentLimits {
  allowedExemptPorts: PortRange[];
  wireguardDevice: string;
  wireguardMark: number;
  wireguardMarkMask: number;
  everyNodeLabelKeys: string[];
  allowedLocalInterfaces: string[];
}

export function parseInteger(text: string): number | undefined {
  const t = text.trim();
  return /^(0x[0-9a-f]+|[0-9]+)$/i.test(t) ? Number(t) : undefined;
}

/** Why a single value defeats the agent, or undefined when it is fine. */
export function judgeValue(setting: Exclude<AgentSetting, "wgMark" | "wgMask">, value: string, limits: AgentLimits): string | undefined {
  switch (setting) {
    case "exemptPorts": {
      let ranges: PortRange[];
      try {
        ranges = parsePorts(value);
      } catch (e) {
        return `${(e as Error).message}: the agent refuses to start, so nothing is steered (list ports like 6443,2379-2380)`;
      }
      const extra = ranges.flatMap((r) => uncovered(r, limits.allowedExemptPorts));
      return extra.length > 0
        ? `exempts port(s) ${formatPorts(extra)} from WireGuard, beyond the allowed bootstrap set ${formatPorts(limits.allowedExemptPorts)}; traffic to them would cross the underlay in the clear`
        : undefined;
    }
    case "device":
      return value.trim() === limits.wireguardDevice
        ? undefined
        : `steers node traffic into '${value}' instead of the WireGuard device '${limits.wireguardDevice}'; any other device (eth0) sends it in the clear`;
    case "controlPlaneSelector":
      return judgeSelector(value, limits.everyNodeLabelKeys);
    case "localInterfaces": {
      const extra = value
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "" && !limits.allowedLocalInterfaces.includes(x));
      return extra.length > 0
        ? `treats ${extra.map((x) => `'${x}'`).join(", ")} as local, so the egress guard lets cluster traffic leave through them in the clear`
        : undefined;
    }
  }
}

/** The mark/mask pair: it must match WireGuard's encrypted packets and nothing else. */
export function judgeMark(markText: string, maskText: string, limits: AgentLimits): string | undefined {
  const mark = parseInteger(markText);
  const mask = parseInteger(maskText);
  if (mark === undefined || mask === undefined || mark < 1 || mask < 1 || mark > 0xffffffff || mask > 0xffffffff) {
    return `mark ${markText} / mask ${maskText} is not a pair of integers 1..0xffffffff: the agent refuses to start, so nothing is steered`;
  }
  if ((mark & mask) >>> 0 !== mark) return `mark ${markText} has bits outside mask ${maskText}: the agent refuses to start, so nothing is steered`;
  const m = limits.wireguardMarkMask;
  const hex = (n: number) => `0x${n.toString(16)}`;
  if ((mask & m) >>> 0 !== m || (mark & m) >>> 0 !== limits.wireguardMark) {
    return (
      `fwmark ${hex(mark)}/${hex(mask)} exempts packets whose mark is not WireGuard's (${hex(limits.wireguardMark)} under ${hex(m)}), ` +
      "so ordinary marked traffic (Cilium's proxy and host marks, kube-proxy's) skips the steering rules and leaves in the clear"
    );
  }
  return undefined;
}

/**
 * A control-plane selector (the agent's syntax: key, key=value, key!=value, !key, comma-joined)
 * narrows only if some requirement needs a label not every node carries: a positive requirement
 * on a key outside `everyNodeLabelKeys`. `!key` and `key!=value` match every node lacking the label.
 */
export function judgeSelector(text: string, everyNodeLabelKeys: readonly string[]): string | undefined {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return "is empty: the agent refuses to start, so nothing is steered";
  const narrowing = parts.some((p) => {
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(p);
    if (!m || m[1] || m[3] === "!=") return false;
    return !everyNodeLabelKeys.includes(m[2].trim());
  });
  return narrowing
    ? undefined
    : `'${text}' matches every node, so every node is treated as control plane and TCP to its exempt ports crosses the underlay in the clear; select the control-plane label (node-role.kubernetes.io/control-plane)`;
}
