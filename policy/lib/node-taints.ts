// Taints the node pools of a stack register, read from what the stack shows:
//   - kubeadm's nodeRegistration.taints in Init/JoinConfiguration documents found in user data
//     (cloud-config write_files, base64 content included, and shell heredocs);
//   - kubelet's --register-with-taints (flags, KUBELET_EXTRA_ARGS, kubeletExtraArgs);
//   - managed pools: EKS NodeGroup `taints`, GKE NodePool `nodeConfig.taints`.
// Only NoSchedule and NoExecute keep a DaemonSet's pods off a node.
import { gunzipSync } from "node:zlib";
import { parseAllDocuments } from "yaml";
import { nodeResources } from "./nodes";
import { label, type Res } from "./resources";
import { isUnknown } from "./unknowns";
import { asArray, at } from "./values";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "NoExecute";
  from: string;
}

const USER_DATA = ["userData", "userDataBase64", "metadataStartupScript", "metadata.user-data", "metadata.startup-script"];
const MANAGED: Record<string, string> = { "aws:eks/nodeGroup:NodeGroup": "taints", "gcp:container/nodePool:NodePool": "nodeConfig.taints" };
const EFFECTS: Record<string, Taint["effect"]> = { NoSchedule: "NoSchedule", NO_SCHEDULE: "NoSchedule", NoExecute: "NoExecute", NO_EXECUTE: "NoExecute" };

/** Bytes as text, gunzipped when they are gzip (EC2 userDataBase64 and cloud-init `gz+b64` files are often gzipped); undefined when not text. */
function bytesText(bytes: Buffer): string | undefined {
  let out: string;
  try {
    out = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
  } catch {
    return undefined;
  }
  return /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(out) ? out : undefined;
}

function decode(text: string): string {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text) || text.replace(/\s/g, "").length % 4 !== 0 || text.length < 8) return text;
  return bytesText(Buffer.from(text, "base64")) ?? text;
}

/** YAML documents in a text: itself, cloud-config write_files contents, and shell heredoc bodies. */
function documents(text: string, depth = 0): unknown[] {
  if (depth > 3) return [];
  const out: unknown[] = [];
  try {
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length > 0) continue;
      const js = d.toJS() as unknown;
      out.push(js);
      for (const f of asArray(at(js, "write_files")) as unknown[]) {
        const content = at(f, "content");
        if (typeof content !== "string") continue;
        const enc = String(at(f, "encoding") ?? "");
        const body = /b64|base64/.test(enc) ? bytesText(Buffer.from(content, "base64")) : content;
        if (body !== undefined) out.push(...documents(body, depth + 1));
      }
    }
  } catch {
    /* not YAML: a script */
  }
  for (const m of text.matchAll(/<<-?\s*['"]?([A-Za-z_]\w*)['"]?[^\n]*\n([\s\S]*?)\n\s*\1\s*(\n|$)/g)) out.push(...documents(m[2], depth + 1));
  return out;
}

function flagTaints(text: string, from: string): Taint[] {
  from = `${from} --register-with-taints`.trim();
  const out: Taint[] = [];
  for (const m of text.matchAll(/register-with-taints["']?\s*(?:[=:]|,\s*value:)\s*["']?([^\s"'\n]+)/g)) {
    for (const t of m[1].split(",")) {
      const tm = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(t.trim());
      if (tm && EFFECTS[tm[3]]) out.push({ key: tm[1], value: tm[2], effect: EFFECTS[tm[3]], from });
    }
  }
  return out;
}

function listTaints(list: unknown, from: string): Taint[] {
  return (asArray(list) as unknown[]).flatMap((t) => {
    const key = at(t, "key");
    const effect = EFFECTS[String(at(t, "effect"))];
    const value = at(t, "value");
    return typeof key === "string" && effect ? [{ key, value: typeof value === "string" ? value : undefined, effect, from }] : [];
  });
}

/** Node pools share user data: each distinct text is parsed once per evaluation. */
function parsedTaints(text: string, cache: Map<string, Taint[]>): Taint[] {
  let hit = cache.get(text);
  if (!hit) {
    const body = decode(text);
    hit = flagTaints(body, "");
    for (const doc of documents(body)) hit.push(...listTaints(at(doc, "nodeRegistration.taints"), "nodeRegistration.taints"));
    cache.set(text, hit);
  }
  return hit;
}

export function taintsInText(text: string, from: string, cache = new Map<string, Taint[]>()): Taint[] {
  return parsedTaints(text, cache).map((t) => ({ ...t, from: `${from} (${t.from})` }));
}

/** Taints of every node pool, and the places that could hold taints but are unknown at preview. */
export function nodeTaints(resources: readonly Res[]): { taints: Taint[]; unknown: string[] } {
  const taints: Taint[] = [];
  const unknown: string[] = [];
  const cache = new Map<string, Taint[]>();
  const nodes = new Set(nodeResources(resources));
  for (const r of resources) {
    if (MANAGED[r.type]) {
      const list = at(r.props, MANAGED[r.type]);
      if (isUnknown(list)) unknown.push(`${MANAGED[r.type]} of ${label(r)}`);
      else taints.push(...listTaints(list, `${MANAGED[r.type]} of ${label(r)}`));
      continue;
    }
    if (!nodes.has(r)) continue;
    for (const f of USER_DATA) {
      const v = f.startsWith("metadata.") ? at(r.props["metadata"], f.slice(9)) : r.props[f];
      if (isUnknown(v)) unknown.push(`${f} of ${label(r)}`);
      else if (typeof v === "string") taints.push(...taintsInText(v, `${f} of ${label(r)}`, cache));
    }
  }
  return { taints, unknown };
}
