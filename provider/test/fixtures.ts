// What a user's program sends for each component, typed by the components' own Args (a renamed
// input fails the typecheck here; the README's Python program is checked against the schema):
// the smallest cluster in both clouds (a control plane in AWS, a worker in GCP), and Cilium and
// the node-router for it. The README's Python program builds the same.
import { TEST_IMAGE } from "../../test/fixtures/images";
import type { ClusterArgs } from "../../components/cluster/args";
import type { CiliumArgs } from "../../components/cilium/cilium";
import type { NodeRouterArgs } from "../../components/nodeRouter/nodeRouter";

export const CLUSTER_INPUTS: ClusterArgs = {
  kubernetesVersion: "1.34.2",
  containerdVersion: "1.7.28",
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  adminCidrs: ["198.51.100.7/32"],
  joinTokenTtlHours: 24,
  adminCertValidityHours: 8760,
  nodes: [
    { name: "mesh-aws-cp-0", cloud: "aws", role: "control-plane", zone: "eu-west-1a", machineType: "t3.medium", diskSizeGb: 30 },
    { name: "mesh-gcp-workers-0", cloud: "gcp", role: "worker", zone: "europe-west1-b", machineType: "e2-standard-2", diskSizeGb: 30 },
  ],
  aws: { region: "eu-west-1", ami: "ami-0abcdef1234567890", vpcCidr: "10.10.0.0/16", subnets: { "eu-west-1a": "10.10.0.0/24" } },
  gcp: {
    project: "my-project",
    region: "europe-west1",
    subnetCidr: "10.20.0.0/24",
    image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101",
  },
  nodeRouter: { image: TEST_IMAGE },
};

export const CILIUM_INPUTS: CiliumArgs = {
  podCidrV4: "10.244.0.0/16",
  k8sServiceHost: "127.0.0.1",
  k8sServicePort: 7445,
  underlayMtus: { aws: 1500, gcp: 1460 },
  behindNat: true,
  multiCloud: true,
};

export const NODE_ROUTER_INPUTS: NodeRouterArgs = {
  image: TEST_IMAGE,
  nodeTable: JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: [{ name: "mesh-aws-cp-0", role: "control-plane", addresses: ["203.0.113.10"] }] }),
};
