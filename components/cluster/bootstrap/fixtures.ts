// Example nodes for the tests: an init control plane, a joining control plane and a worker
// on each cloud (addresses from the documentation ranges).
import type { NodeBootstrap } from "./types";

const base = {
  clusterName: "demo",
  apiEndpoint: "203.0.113.10:6443",
  controlPlaneIps: ["203.0.113.10", "203.0.113.11", "198.51.100.20", "198.51.100.21"],
  kubernetesVersion: "1.34.2",
  containerdVersion: "1.7.28",
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  bootstrapToken: "abcdef.0123456789abcdef",
  discoveryHash: `sha256:${"ab".repeat(32)}`,
} as const;

const awsSecret = { aws: { region: "eu-west-1", secretId: "demo-cluster-pki" } };
const gcpSecret = { gcp: { project: "demo-project-123", secretId: "demo-cluster-pki" } };

export const exampleNodes: Record<string, NodeBootstrap> = {
  "aws init control-plane": { ...base, nodeName: "demo-aws-cp-0", cloud: "aws", role: "control-plane", init: true, nodeIp: "203.0.113.10", pkiSecret: awsSecret },
  "aws joining control-plane": { ...base, nodeName: "demo-aws-cp-1", cloud: "aws", role: "control-plane", init: false, nodeIp: "203.0.113.11", pkiSecret: awsSecret },
  "aws worker": { ...base, nodeName: "demo-aws-workers-0", cloud: "aws", role: "worker", init: false, nodeIp: "203.0.113.50" },
  "gcp init control-plane": { ...base, apiEndpoint: "198.51.100.20:6443", nodeName: "demo-gcp-cp-0", cloud: "gcp", role: "control-plane", init: true, nodeIp: "198.51.100.20", pkiSecret: gcpSecret },
  "gcp joining control-plane": { ...base, nodeName: "demo-gcp-cp-1", cloud: "gcp", role: "control-plane", init: false, nodeIp: "198.51.100.21", pkiSecret: gcpSecret },
  "gcp worker": { ...base, nodeName: "demo-gcp-workers-0", cloud: "gcp", role: "worker", init: false, nodeIp: "198.51.100.60" },
};
