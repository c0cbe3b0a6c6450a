// The node-router DaemonSet as a plain apps/v1 object. Every choice here is about one thing:
// the agent must run on EVERY node (control plane and tainted nodes included), with just
// enough privilege to edit ip rules/routes, and be observable.
import { agentEnv } from "./agentEnv";
import { APP_NAME, commonLabels, type ObjectMeta } from "./rbac";
import { HEALTH_HOST, isLoopback, type DeployedAgent } from "./settings";
import type { Settings } from "../../agent/src/settings";
import { NODE_TABLE_CONFIGMAP, NODE_TABLE_KEY, NODE_TABLE_MOUNT_DIR } from "../core/nodeTable";

/** The agent's table file inside the pod: the ConfigMap is mounted as a directory (not subPath), so the kubelet updates it. */
export const NODE_TABLE_FILE = `${NODE_TABLE_MOUNT_DIR}/${NODE_TABLE_KEY}`;

/**
 * The host directory where the agent persists its last good table and the ruleset rendered from
 * it, and where the boot-time guard unit looks for them before kubelet starts: a host path, as the
 * unit reads it with no container runtime. Mounted at the same path, so the agent's default is right.
 */
export const STATE_DIR = "/var/lib/wg-mesh";

/** Host cgroup v2 root: nft resolves `socket cgroupv2` names under /sys/fs/cgroup of the namespace it runs in. */
export const HOST_CGROUP_ROOT = "/sys/fs/cgroup";

/** CPU and memory of the agent's container. */
export interface ResourceRequirements {
  /** What the scheduler reserves on every node. */
  readonly requests: ResourceQuantities;
  /** Where the agent is throttled (CPU) or killed (memory). */
  readonly limits: ResourceQuantities;
}

/** Kubernetes quantities. */
export interface ResourceQuantities {
  /** CPU, e.g. 20m. */
  readonly cpu: string;
  /** Memory, e.g. 128Mi. */
  readonly memory: string;
}

/**
 * Sized from the agent benchmark's real-agent run (5,000 realistic Nodes and CiliumNodes:
 * about 130 MB RSS, peaks near 140 MB); the limit leaves headroom and stops a leak hurting the node.
 */
export const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: "20m", memory: "128Mi" },
  limits: { cpu: "250m", memory: "256Mi" },
};

export interface DaemonSetInput {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The agent image, pinned by digest. */
  readonly image: string;
  /** The agent as deployed (./settings.ts deployAgent): its environment, and where its servers listen. */
  readonly agent: DeployedAgent;
  readonly resources?: ResourceRequirements;
  /** Extra DaemonSet (not pod template) annotations, e.g. which Cilium release it follows. */
  readonly annotations?: Record<string, string>;
  /**
   * Run the agent on the node table: mount its ConfigMap (../core/nodeTable.ts) and point the
   * agent at it, and mount what the guard needs on the host (state dir, boot table, cgroup tree).
   */
  readonly nodeTable?: boolean;
  /** Secrets (in the DaemonSet's namespace) the kubelet pulls the agent image with; default none. */
  readonly imagePullSecrets?: readonly string[];
}

export const SELECTOR_LABELS = { "app.kubernetes.io/name": APP_NAME };

// With hostNetwork a container port is a host port: declaring both lets the scheduler refuse a
// pod whose ports another host-network pod already holds on that node.
function ports(settings: Settings) {
  const list = [{ name: "health", containerPort: settings.healthAddress.port, protocol: "TCP" }];
  if (settings.metricsAddress.port !== settings.healthAddress.port)
    list.push({ name: "metrics", containerPort: settings.metricsAddress.port, protocol: "TCP" });
  return list;
}

/**
 * What the agent's guard needs from the host, mounted at the host's own paths (so the agent's
 * default --state-dir is right): the state dir, read-write (the persisted table and ruleset the
 * boot unit loads at the next boot); the host's cgroup v2 tree, read-only, at /sys/fs/cgroup: the guard's `socket cgroupv2 level 1 "system.slice"`
 * is resolved there, and the container's own cgroup namespace shows only its own cgroup.
 */
function hostMounts() {
  const mounts = [
    { name: "state", hostPath: { path: STATE_DIR, type: "DirectoryOrCreate" }, readOnly: false },
    { name: "host-cgroup", hostPath: { path: HOST_CGROUP_ROOT, type: "Directory" }, readOnly: true },
  ];
  return {
    volumes: mounts.map(({ name, hostPath }) => ({ name, hostPath })),
    volumeMounts: mounts.map(({ name, hostPath, readOnly }) => ({ name, mountPath: hostPath.path, readOnly })),
  };
}

/** Scrape annotations only where a scraper can reach /metrics (not on loopback). */
function scrapeAnnotations(settings: Settings): Record<string, string> {
  if (isLoopback(settings.metricsAddress.host)) return {};
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(settings.metricsAddress.port), "prometheus.io/path": "/metrics" };
}

export function daemonSet(input: DaemonSetInput) {
  // The deployed settings as the agent parses them: where its health and metrics servers listen.
  const { settings } = input.agent;
  const resources = input.resources ?? DEFAULT_RESOURCES;
  const metadata: ObjectMeta = { name: input.name, namespace: input.namespace, labels: commonLabels() };
  const host = input.nodeTable ? hostMounts() : { volumes: [], volumeMounts: [] };
  const pullSecrets = input.imagePullSecrets ?? [];
  if (input.annotations) metadata.annotations = { ...input.annotations };
  return {
    apiVersion: "apps/v1" as const,
    kind: "DaemonSet" as const,
    metadata,
    spec: {
      selector: { matchLabels: { ...SELECTOR_LABELS } },
      // One node at a time: while a node's agent restarts its rules stay in the kernel.
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: commonLabels(), annotations: scrapeAnnotations(settings) },
        spec: {
          serviceAccountName: input.serviceAccountName,
          automountServiceAccountToken: true,
          // The usual way to pull a private image (GHCR creates packages private by default).
          ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
          // The agent edits the NODE's ip rules and routes, so it lives in the host netns.
          hostNetwork: true,
          // Still resolve cluster names (the API service) from the host network.
          dnsPolicy: "ClusterFirstWithHostNet",
          // Evicted last, scheduled first: without it a node's traffic is not steered.
          priorityClassName: "system-node-critical",
          // Tolerate every taint (NoSchedule, PreferNoSchedule, NoExecute) so control-plane,
          // not-ready and cordoned-by-taint nodes keep the agent. No nodeSelector/affinity.
          tolerations: [{ operator: "Exists" as const }],
          terminationGracePeriodSeconds: 30,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: APP_NAME,
              image: input.image,
              imagePullPolicy: "IfNotPresent",
              env: agentEnv(input.agent, input.nodeTable ? NODE_TABLE_FILE : undefined),
              ports: ports(settings),
              securityContext: {
                // Kubernetes grants added capabilities only to uid 0 (no ambient caps), so
                // the agent runs as root but with nothing except NET_ADMIN.
                runAsUser: 0,
                runAsNonRoot: false,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
              },
              livenessProbe: {
                // Loopback: the kubelet runs in the host network namespace, as this pod does.
                httpGet: { host: HEALTH_HOST, path: "/healthz", port: settings.healthAddress.port, scheme: "HTTP" },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { host: HEALTH_HOST, path: "/readyz", port: settings.healthAddress.port, scheme: "HTTP" },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
              // /tmp for Node.js' temp files and the state dir are the only writable paths; the root fs stays read-only.
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                ...(input.nodeTable ? [{ name: "node-table", mountPath: NODE_TABLE_MOUNT_DIR, readOnly: true }] : []),
                ...host.volumeMounts,
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            ...(input.nodeTable ? [{ name: "node-table", configMap: { name: NODE_TABLE_CONFIGMAP } }] : []),
            ...host.volumes,
          ],
        },
      },
    },
  };
}
