// Heuristic discovery of the cluster's pod CIDRs from what a stack shows, in this order:
//   1. Cilium cluster-pool IPAM values (ipam.operator.clusterPoolIPv4PodCIDRList / cluster-pool-ipv4-cidr);
//   2. kubeadm settings in node user data / cloud-init (podSubnet:, --pod-network-cidr, --cluster-cidr);
//   3. stack outputs named podCidr / podCidrs / podSubnet / podNetworkCidr (any case).
// Chart defaults (10.0.0.0/8) are NOT assumed: only what the stack spells out counts.
import { ciliumSources } from "./cilium";
import { isCidr } from "./cidr";
import { isNodeResource } from "./nodes";
import { label, TYPES, type Res } from "./resources";
import { isUnknown } from "./unknowns";

export interface PodCidrs {
  cidrs: string[];
  /** Places that might hold a pod CIDR but are unknown at preview. */
  unknown: string[];
}

const PATTERNS = [
  /podSubnet["']?\s*:\s*["']?([0-9a-fA-F.:/,]+)/g,
  /--pod-network-cidr[=\s]+["']?([0-9a-fA-F.:/,]+)/g,
  /--cluster-cidr[=\s]+["']?([0-9a-fA-F.:/,]+)/g,
];
const USER_DATA_FIELDS = ["userData", "userDataBase64", "metadataStartupScript", "metadata.user-data", "metadata.startup-script"];
const OUTPUT_NAME = /^pod_?(cidrs?|subnets?|networkcidrs?)$/i;

function decodeMaybeBase64(text: string): string {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text) || text.length % 4 !== 0 || text.includes(":")) return text;
  const decoded = Buffer.from(text, "base64").toString("utf8");
  return /[\x20-\x7e]/.test(decoded) && !decoded.includes("\ufffd") ? decoded : text;
}

export function cidrsInText(text: string): string[] {
  const body = decodeMaybeBase64(text);
  const found: string[] = [];
  for (const re of PATTERNS) {
    for (const m of body.matchAll(re)) for (const c of m[1].split(",")) if (isCidr(c)) found.push(c);
  }
  return found;
}

function readField(r: Res, field: string): unknown {
  if (!field.startsWith("metadata.")) return r.props[field];
  const md = r.props["metadata"];
  if (isUnknown(md)) return md;
  return md !== null && typeof md === "object" ? (md as Record<string, unknown>)[field.slice("metadata.".length)] : undefined;
}

export function discoverPodCidrs(resources: readonly Res[]): PodCidrs {
  const cidrs = new Set<string>();
  const unknown: string[] = [];
  for (const src of ciliumSources(resources)) {
    for (const c of src.podCidrs) {
      if (isUnknown(c)) unknown.push(`the pod CIDR list of ${label(src.res)}`);
      else if (isCidr(c)) cidrs.add(c);
    }
  }
  for (const r of resources) {
    if (isNodeResource(r)) {
      for (const f of USER_DATA_FIELDS) {
        const v = readField(r, f);
        if (isUnknown(v)) unknown.push(`${f} of ${label(r)}`);
        else if (typeof v === "string") cidrsInText(v).forEach((c) => cidrs.add(c));
      }
    }
    if (r.type === TYPES.stack) {
      for (const [k, v] of Object.entries(r.props)) {
        if (!OUTPUT_NAME.test(k)) continue;
        for (const item of Array.isArray(v) ? v : [v]) {
          if (isUnknown(item)) unknown.push(`stack output ${k}`);
          else if (typeof item === "string" && isCidr(item)) cidrs.add(item);
        }
      }
    }
  }
  return { cidrs: [...cidrs], unknown };
}

/** The IPv4 pod CIDRs a policy checks against: the configured ones, or else those the stack shows. */
export function ipv4PodCidrs(configured: readonly string[], resources: readonly Res[]): PodCidrs {
  const found = configured.length > 0 ? { cidrs: [...configured], unknown: [] } : discoverPodCidrs(resources);
  return { cidrs: found.cidrs.filter((c) => isCidr(c) && !c.includes(":")), unknown: found.unknown };
}
