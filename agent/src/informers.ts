// Kubernetes inputs: list+watch caches for Nodes and CiliumNodes (kube/listWatch.ts, a small
// client over node:https instead of @kubernetes/client-node, whose generated API alone costs
// ~85 MB of RSS on every node). The caches are the cluster view. A broken watch resumes from
// its last resourceVersion, a 410 relists, failures back off; until a relist succeeds the cache
// - the last known state - stays in use, so an API outage never removes protection. A missing
// CiliumNode CRD (kubernetes IPAM without Cilium's CRDs yet) counts as "no CiliumNodes" and
// is retried.
import { resolveTarget, type KubeConfigSource } from "./kube/config";
import { ListWatch, type KubeObject } from "./kube/listWatch";
import { ApiError, KubeTransport } from "./kube/transport";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";

export interface ClusterSource {
  nodes(): unknown[];
  ciliumNodes(): unknown[];
}

export interface InformerCallbacks {
  /** Any add, update or delete after the initial list. */
  onChange(): void;
  /** Both informers have completed their first list (CRD absence counts as complete). */
  onSynced(): void;
}

/** In-cluster config when no kubeconfig is given. Resolved (and checked) by startInformers. */
export function loadKubeConfig(kubeconfig?: string): KubeConfigSource {
  return kubeconfig ? { kind: "file", path: kubeconfig } : { kind: "in-cluster" };
}

export interface InformerTuning {
  pageSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  watchSeconds?: number;
}

// Fields the agent never reads and that make up most of a real object (a kubelet's Node is
// 5-15 KB of JSON, mostly images and conditions; a CiliumNode's status holds its IP allocations).
// Dropped before caching: at 5,000 nodes they would cost tens of megabytes on every node.
const NODE_STATUS_UNUSED = ["images", "conditions", "volumesInUse", "volumesAttached", "nodeInfo", "daemonEndpoints", "capacity", "allocatable", "config", "runtimeHandlers", "features"];

/** A copy without the given keys. Built fresh rather than with `delete`, which would turn every
 *  cached object into a slower, larger dictionary-mode object. */
function omit<T extends object>(o: T, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  return out as T;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function trimNode(o: KubeObject): KubeObject {
  const t = { ...o, metadata: omit(o.metadata, ["managedFields"]) };
  return isObject(o.status) ? { ...t, status: omit(o.status, NODE_STATUS_UNUSED) } : t;
}

export function trimCiliumNode(o: KubeObject): KubeObject {
  return { ...omit(o, ["status"]), metadata: omit(o.metadata, ["managedFields"]) };
}

export async function startInformers(source: KubeConfigSource, cb: InformerCallbacks, log: Logger, metrics: Metrics, tuning: InformerTuning = {}): Promise<ClusterSource & { stop(): Promise<void> }> {
  const transport = new KubeTransport(await resolveTarget(source));
  const synced = { nodes: false, cilium: false };
  const markSynced = (which: keyof typeof synced) => {
    if (synced[which]) return;
    synced[which] = true;
    if (synced.nodes && synced.cilium) cb.onSynced();
  };
  let crdMissing = false;

  const informer = (name: keyof typeof synced, path: string, trim: (o: KubeObject) => KubeObject) => new ListWatch(transport, {
    path, trim, ...tuning,
    onChange: () => cb.onChange(),
    onListed: () => {
      if (name === "cilium") crdMissing = false;
      markSynced(name);
    },
    onError: (err, phase, retryMs) => {
      metrics.errors.inc({ kind: "api" });
      if (name === "cilium" && phase === "list" && err instanceof ApiError && err.status === 404) {
        if (!crdMissing) log.warn({ informer: name }, "CiliumNode CRD not found; using Node.spec.podCIDRs; retrying");
        crdMissing = true;
        markSynced(name); // no CRD: no CiliumNodes; pod CIDRs come from Node.spec.podCIDRs
        return;
      }
      log.warn({ informer: name, phase, err: err.message, retryMs }, "list/watch failed; keeping last known state");
    },
    onBadObject: (message) => {
      metrics.errors.inc({ kind: "api" });
      log.warn({ informer: name }, message);
    },
  });
  const nodes = informer("nodes", "/api/v1/nodes", trimNode);
  const cilium = informer("cilium", "/apis/cilium.io/v2/ciliumnodes", trimCiliumNode);
  nodes.start();
  cilium.start();
  log.info({ server: transport.server }, "watching Nodes and CiliumNodes");

  return {
    nodes: () => nodes.list(),
    ciliumNodes: () => cilium.list(),
    async stop() {
      await Promise.allSettled([nodes.stop(), cilium.stop()]);
      transport.close();
    },
  };
}
