// Example nodes for the tests: the first control plane of a new cluster (may init), a second
// control plane, and a worker on each cloud (addresses from the documentation ranges).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlaneRef, NodeBootstrap } from "./types";

/** A real self-signed CA certificate made with openssl (public part only). */
function testCaPem(): string {
  const dir = mkdtempSync(join(tmpdir(), "wgmesh-fixture-ca-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes", "-days", "1"], { cwd: dir, stdio: "ignore" });
    return readFileSync(join(dir, "ca.crt"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const controlPlanes: ControlPlaneRef[] = [
  { name: "demo-aws-cp-0", ip: "203.0.113.10" },
  { name: "demo-aws-cp-1", ip: "203.0.113.11" },
  { name: "demo-gcp-cp-0", ip: "198.51.100.20" },
  { name: "demo-gcp-cp-1", ip: "198.51.100.21" },
];

const tableNodes = [
  ...controlPlanes.map((cp) => ({ name: cp.name, role: "control-plane", addresses: [cp.ip] })),
  { name: "demo-aws-workers-0", role: "worker", addresses: ["203.0.113.50"] },
  { name: "demo-gcp-workers-0", role: "worker", addresses: ["198.51.100.60"] },
];

/** Every example node, in the agent's node-table format. */
export const exampleNodeTable = JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: tableNodes });

const base = {
  nodeTable: exampleNodeTable,
  guard: { device: "cilium_wg0", wgMark: "0xe00", wgMask: "0xf00", exemptPorts: "6443,2379-2380" },
  clusterName: "demo",
  controlPlanes,
  extraCertSans: ["api.demo.example.com"],
  kubernetesVersion: "1.34.2",
  containerdVersion: "1.7.28",
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  discoveryHash: `sha256:${"ab".repeat(32)}`,
  caCertPem: testCaPem(),
  agentImage: `ghcr.io/example/node-router@sha256:${"5e".repeat(32)}`,
} as const;

const awsSecret = { aws: { region: "eu-west-1", secretId: "demo-cluster-pki" } };
const gcpSecret = { gcp: { project: "demo-project-123", secretId: "demo-cluster-pki" } };
const awsToken = { joinTokenSecret: { aws: { region: "eu-west-1", secretId: "demo/join-token" } } };
const gcpToken = { joinTokenSecret: { gcp: { project: "demo-project-123", secretId: "demo-join-token" } } };

export const exampleNodes: Record<string, NodeBootstrap> = {
  "aws first control-plane": { ...base, nodeName: "demo-aws-cp-0", cloud: "aws", role: "control-plane", mayInit: true, nodeIp: "203.0.113.10", pkiSecret: awsSecret, ...awsToken },
  "aws second control-plane": { ...base, nodeName: "demo-aws-cp-1", cloud: "aws", role: "control-plane", mayInit: false, nodeIp: "203.0.113.11", pkiSecret: awsSecret, ...awsToken },
  "aws worker": { ...base, nodeName: "demo-aws-workers-0", cloud: "aws", role: "worker", mayInit: false, nodeIp: "203.0.113.50", ...awsToken },
  "gcp first control-plane": { ...base, controlPlanes: [controlPlanes[2], controlPlanes[3]], nodeName: "demo-gcp-cp-0", cloud: "gcp", role: "control-plane", mayInit: true, nodeIp: "198.51.100.20", pkiSecret: gcpSecret, ...gcpToken },
  "gcp second control-plane": { ...base, nodeName: "demo-gcp-cp-1", cloud: "gcp", role: "control-plane", mayInit: false, nodeIp: "198.51.100.21", pkiSecret: gcpSecret, ...gcpToken },
  "gcp worker": { ...base, nodeName: "demo-gcp-workers-0", cloud: "gcp", role: "worker", mayInit: false, nodeIp: "198.51.100.60", ...gcpToken },
};
