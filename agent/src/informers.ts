// Kubernetes inputs: list+watch informers for Nodes and CiliumNodes (@kubernetes/client-node).
// The informer caches are the cluster view. When a watch breaks, the informer is restarted with
// exponential backoff; until its relist succeeds its cache - the last known state - stays in use,
// so an API outage never removes protection. A missing CiliumNode CRD (kubernetes IPAM without
// Cilium's CRDs yet) counts as "no CiliumNodes" and is retried.
// Kept out of every file the unit tests import: the library is ESM-only.
import * as k8s from "@kubernetes/client-node";
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

export function loadKubeConfig(kubeconfig?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

export async function startInformers(kc: k8s.KubeConfig, cb: InformerCallbacks, log: Logger, metrics: Metrics): Promise<ClusterSource & { stop(): Promise<void> }> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  // informer.start() resolves even when its list fails (the failure only reaches the error
  // callback), so a successful list is recorded here: "synced" must never mean "empty because
  // the API was down" - that would remove all protection.
  const listed = { nodes: false, cilium: false };
  const nodeInformer = k8s.makeInformer<k8s.V1Node>(kc, "/api/v1/nodes", () =>
    core.listNode().then((list) => ((listed.nodes = true), list)));
  const ciliumInformer = k8s.makeInformer<k8s.KubernetesObject>(kc, "/apis/cilium.io/v2/ciliumnodes", () =>
    (custom.listClusterCustomObject({ group: "cilium.io", version: "v2", plural: "ciliumnodes" }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>)
      .then((list) => ((listed.cilium = true), list)));

  let stopped = false;
  const synced = { nodes: false, cilium: false };
  const markSynced = (which: keyof typeof synced) => {
    if (synced[which]) return;
    synced[which] = true;
    if (synced.nodes && synced.cilium) cb.onSynced();
  };

  const run = (name: keyof typeof synced, informer: k8s.Informer<k8s.KubernetesObject>) => {
    let backoff = MIN_BACKOFF_MS;
    const restart = (why: string, err: unknown) => {
      if (stopped) return;
      metrics.errors.inc({ kind: "api" });
      const notFound = (err as { code?: number })?.code === 404 || /404|not found/i.test(String((err as Error)?.message ?? err));
      if (name === "cilium" && notFound) {
        markSynced(name); // no CRD: no CiliumNodes; pod CIDRs come from Node.spec.podCIDRs
        log.warn({ informer: name }, "CiliumNode CRD not found; using Node.spec.podCIDRs; retrying");
      } else {
        log.warn({ informer: name, why, err: String((err as Error)?.message ?? err), retryMs: backoff }, "watch interrupted; keeping last known state");
      }
      setTimeout(() => start(), backoff).unref();
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
    const start = () => {
      if (stopped) return;
      listed[name] = false;
      informer.start().then(() => {
        if (!listed[name]) return; // the error callback has scheduled the retry
        backoff = MIN_BACKOFF_MS;
        markSynced(name);
        cb.onChange();
      }, (e: unknown) => restart("list failed", e));
    };
    for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, () => cb.onChange());
    informer.on(k8s.ERROR, (e) => restart("watch error", e));
    start();
  };
  run("nodes", nodeInformer as unknown as k8s.Informer<k8s.KubernetesObject>);
  run("cilium", ciliumInformer);

  return {
    nodes: () => [...nodeInformer.list()],
    ciliumNodes: () => [...ciliumInformer.list()],
    async stop() {
      stopped = true;
      await Promise.allSettled([nodeInformer.stop(), ciliumInformer.stop()]);
    },
  };
}
