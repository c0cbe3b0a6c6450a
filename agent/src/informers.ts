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
  /** The cached Node and CiliumNode of one name (a delta step reads only the changed ones). */
  lookup: ClusterLookup;
}

export interface ClusterLookup {
  node(name: string): unknown;
  ciliumNode(name: string): unknown;
}

export interface InformerCallbacks {
  /** Any add, update or delete after the initial list: with the object's name, or without after a list (anything may have changed). */
  onChange(name?: string): void;
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

// What the agent reads of each object (nodes.ts): a Node's name, labels, status.addresses and
// spec.podCIDRs; a CiliumNode's name, spec.addresses and spec.ipam.podCIDRs; resourceVersion for
// the cache. Only that is kept: a real Node is 5-15 KB of JSON (managed fields, images,
// conditions, annotations, node info), a CiliumNode carries its IP allocations, and at 5,000
// nodes the rest would cost megabytes on every node. An allowlist, not a list of what to drop, so
// a field a new Kubernetes version adds costs nothing either. Values are kept as they came, well
// formed or not: nodes.ts judges them and reports what is malformed.
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The listed keys of `o` that are present, in that order (absent keys stay absent). */
function pick(o: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (!isObject(o)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function keptMetadata(o: KubeObject, withLabels: boolean): KubeObject["metadata"] {
  const m = o.metadata;
  return {
    name: m.name,
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    ...(withLabels && m.labels !== undefined ? { labels: m.labels } : {}),
  };
}

export function trimNode(o: KubeObject): KubeObject {
  const spec = pick(o.spec, ["podCIDRs"]);
  const status = pick(o.status, ["addresses"]);
  return { metadata: keptMetadata(o, true), ...(spec ? { spec } : {}), ...(status ? { status } : {}) };
}

export function trimCiliumNode(o: KubeObject): KubeObject {
  const spec = pick(o.spec, ["addresses", "ipam"]);
  if (spec?.ipam !== undefined) spec.ipam = isObject(spec.ipam) ? pick(spec.ipam, ["podCIDRs"]) : spec.ipam;
  return { metadata: keptMetadata(o, false), ...(spec ? { spec } : {}) };
}

export async function startInformers(
  source: KubeConfigSource,
  cb: InformerCallbacks,
  log: Logger,
  metrics: Metrics,
  tuning: InformerTuning = {},
): Promise<ClusterSource & { stop(): Promise<void> }> {
  const transport = new KubeTransport(await resolveTarget(source));
  const synced = { nodes: false, cilium: false };
  const markSynced = (which: keyof typeof synced) => {
    if (synced[which]) return;
    synced[which] = true;
    if (synced.nodes && synced.cilium) cb.onSynced();
  };
  let crdMissing = false;

  const informer = (name: keyof typeof synced, path: string, trim: (o: KubeObject) => KubeObject) =>
    new ListWatch(transport, {
      path,
      trim,
      ...tuning,
      onChange: (changed) => cb.onChange(changed),
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
    lookup: { node: (name) => nodes.get(name), ciliumNode: (name) => cilium.get(name) },
    async stop() {
      await Promise.allSettled([nodes.stop(), cilium.stop()]);
      transport.close();
    },
  };
}
