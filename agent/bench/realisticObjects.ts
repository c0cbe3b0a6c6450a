// Node and CiliumNode objects the size real clusters have: a kubelet's Node carries managed
// fields, its image list, conditions and node info (~9 KB of JSON); a CiliumNode its IPAM status.
// The agent reads a few hundred bytes of each; what it keeps of the rest is what this measures.
import { remoteNode } from "./benchNet";

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
const time = "2025-01-01T00:00:00Z";

function managedFields(manager: string, paths: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < paths; i++) fields[`f:field${i}`] = { "f:subfield": {}, ".": {} };
  return { manager, operation: "Update", apiVersion: "v1", time, fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": fields } } };
}

export function realisticNode(i: number, dual: boolean): Record<string, unknown> {
  const base = remoteNode(i, dual) as {
    metadata: { name: string; labels: Record<string, string> };
    spec: Record<string, unknown>;
    status: Record<string, unknown>;
  };
  const images = Array.from({ length: 24 }, (_, k) => ({
    names: [`registry.example/team/image-${k}@sha256:${hex(i * 131 + k, 64)}`, `registry.example/team/image-${k}:v1.${k}`],
    sizeBytes: 10_000_000 + k,
  }));
  const conditions = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready", "NetworkUnavailable"].map((type) => ({
    type,
    status: type === "Ready" ? "True" : "False",
    lastHeartbeatTime: time,
    lastTransitionTime: time,
    reason: `Kubelet${type}`,
    message: `kubelet reports ${type} as expected`,
  }));
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      ...base.metadata,
      uid: `${hex(i, 8)}-0000-4000-8000-${hex(i, 12)}`,
      creationTimestamp: time,
      labels: {
        ...base.metadata.labels,
        "kubernetes.io/hostname": base.metadata.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": `zone-${i % 3}`,
        "node.kubernetes.io/instance-type": "m6i.large",
      },
      annotations: {
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        "network.cilium.io/wg-pub-key": Buffer.from(hex(i, 64), "hex").toString("base64"),
      },
      managedFields: [managedFields("kubeadm", 6), managedFields("kubelet", 20), managedFields("kube-controller-manager", 4), managedFields("cilium-agent", 4)],
    },
    spec: { ...base.spec, podCIDR: (base.spec.podCIDRs as string[])[0], providerID: `aws:///zone-${i % 3}/i-${hex(i, 17)}` },
    status: {
      ...base.status,
      capacity: { cpu: "2", "ephemeral-storage": "81106868Ki", memory: "7901104Ki", pods: "110" },
      allocatable: { cpu: "2", "ephemeral-storage": "74746361914", memory: "7798704Ki", pods: "110" },
      conditions,
      images,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hex(i, 32),
        systemUUID: hex(i, 32),
        bootID: hex(i, 32),
        kernelVersion: "6.1.0-18-cloud-amd64",
        osImage: "Debian GNU/Linux 12 (bookworm)",
        containerRuntimeVersion: "containerd://1.7.13",
        kubeletVersion: "v1.31.4",
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  };
}

export function realisticCiliumNode(i: number, dual: boolean): Record<string, unknown> {
  const node = remoteNode(i, dual) as { metadata: { name: string }; spec: { podCIDRs: string[] }; status: { addresses: { address: string }[] } };
  const used: Record<string, unknown> = {};
  for (let k = 0; k < 20; k++) used[`198.19.${(8 * i) >> 8}.${k}`] = { owner: `namespace-${k}/pod-${k}-${hex(i, 6)}`, resource: hex(k, 8) };
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNode",
    metadata: {
      name: node.metadata.name,
      uid: `c${hex(i, 7)}-0000-4000-8000-${hex(i, 12)}`,
      managedFields: [managedFields("cilium-agent", 10), managedFields("cilium-operator", 6)],
    },
    spec: {
      addresses: node.status.addresses.map((a) => ({ type: "InternalIP", ip: a.address })),
      ipam: { podCIDRs: node.spec.podCIDRs },
      health: { ipv4: `198.19.${(8 * i) >> 8}.${((8 * i) & 255) + 1}` },
      encryption: {},
    },
    status: { ipam: { used, "operator-status": {} } },
  };
}
