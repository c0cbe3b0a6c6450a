// The stack configuration's shape, written once: the TypeScript types are inferred from
// these zod schemas, so the type the program uses and the checks users hit cannot drift.
import { z } from "zod";
import { NodeRole } from "../components/core/nodes";
import { IpamMode } from "../components/cilium/values";
import { preflightSchema } from "./preflight/schema";
import { WireguardFrom } from "../components/core/firewallIntents";
import { AWS_REGION, CONTAINERD_VERSION, GCP_PROJECT, K8S_VERSION } from "../components/cluster/bootstrap/validate";

const cidr = z.string().min(1);

const pool = z
  .object({
    /** Pool name; node names are `<cluster>-<cloud>-<pool>-<index>`. */
    name: z.string().regex(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/, "lower-case letters, digits and '-', at most 20 characters"),
    /** control-plane nodes run kubeadm's stacked etcd and the API server. */
    role: z.enum(NodeRole),
    /** Number of nodes in the pool. */
    count: z.number().int().min(0).max(100),
    /** EC2 instance type or GCE machine type. */
    machineType: z.string().min(1),
    /** Availability zone (AWS) or zone (GCP), e.g. eu-west-1a or europe-west1-b. */
    zone: z.string().min(1),
    /** Root disk size in GiB. */
    diskSizeGb: z.number().int().min(20).max(2000).default(50),
  })
  .strict();

// Quotas the stack's resources count against. Defaults are the clouds' defaults for a new
// account/project; set the value your account actually has (infra/quotas.ts checks them).
const awsQuotas = z
  .object({
    /** Service Quotas "Inbound or outbound rules per security group" (vpc, L-0EA8095F); default 60. */
    rulesPerSecurityGroup: z.number().int().min(1).max(1000).default(60),
    /** Service Quotas "EC2-VPC Elastic IPs" (ec2, L-0263D0A3) free for this stack in the region; default 5. */
    elasticIps: z.number().int().min(1).default(5),
  })
  .strict()
  .default({ rulesPerSecurityGroup: 60, elasticIps: 5 });

const gcpQuotas = z
  .object({
    /** Compute Engine "Firewall rules" (FIREWALLS, per project) free for this stack; default 100. */
    firewallRules: z.number().int().min(1).default(100),
    /** Compute Engine "Static IP addresses" (STATIC_ADDRESSES, per region) free for this stack; default 8. */
    staticAddresses: z.number().int().min(1).default(8),
  })
  .strict()
  .default({ firewallRules: 100, staticAddresses: 8 });

const awsSchema = z
  .object({
    /** AWS region; must match the zones of the pools. */
    region: z.string().regex(AWS_REGION, 'an AWS region name such as "eu-west-1"'),
    /** CIDR of the VPC this program creates; conflicts with vpcId. */
    vpcCidr: cidr.default("10.10.0.0/16"),
    /** Node subnet per zone; a zone without an entry gets the /24 numbered by its letter (a = 1). */
    subnetCidrs: z.record(z.string(), cidr).default({}),
    /** Use an existing VPC instead of creating one (its CIDR must still be given as vpcCidr). */
    vpcId: z.string().optional(),
    /** The AMI every new node boots, pinned (`ami-...`): scripts/pin-images.sh records the current one. */
    ami: z.string(),
    quotas: awsQuotas,
    pools: z.array(pool).min(1),
  })
  .strict();

const gcpSchema = z
  .object({
    /** GCP project id. */
    project: z
      .string()
      .regex(GCP_PROJECT, 'the GCP project id (6-30 lower-case letters, digits and "-", starting with a letter), not its number or display name'),
    /** GCP region; must match the zones of the pools. */
    region: z.string().min(1),
    /** CIDR of the nodes' subnetwork. */
    subnetCidr: cidr.default("10.20.1.0/24"),
    /** The image every new node boots, pinned: `projects/<p>/global/images/<image>` (scripts/pin-images.sh). */
    image: z.string(),
    quotas: gcpQuotas,
    pools: z.array(pool).min(1),
  })
  .strict();

const clusterSchema = z
  .object({
    /** Cluster name: prefix of every cloud resource, lower case. */
    name: z.string().regex(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/, "lower-case letters, digits and '-', at most 20 characters"),
    /** Kubernetes version (kubeadm, kubelet, kubectl packages from pkgs.k8s.io). */
    kubernetesVersion: z.string().regex(K8S_VERSION, "a full version such as 1.34.2").default("1.34.2"),
    /** Debian-package version of containerd installed on every node. */
    containerdVersion: z
      .string()
      .regex(CONTAINERD_VERSION, 'the upstream version alone, such as 1.7.28 (the Debian revision, e.g. "-1", is added by the boot script)')
      .default("1.7.28"),
    /** Cluster pod CIDR (IPv4). */
    podCidr: cidr.default("10.244.0.0/16"),
    /** Cluster service CIDR (IPv4). */
    serviceCidr: cidr.default("10.96.0.0/12"),
    /** CIDRs allowed to reach the API server on 6443 (operators, CI). Empty = nodes only. */
    adminCidrs: z.array(cidr).default([]),
    /** Where every node admits WireGuard (UDP 51871) from: "nodes" (each node's address) or "anywhere" (0.0.0.0/0, large clusters); default nodes. */
    wireguardFrom: z
      .enum(WireguardFrom, { error: `"nodes" (each node's address, the default) or "anywhere" (0.0.0.0/0, for large clusters; README, "Cloud firewalls")` })
      .default(WireguardFrom.Nodes),
    /** Minutes `pulumi up` waits for every node to be Ready with Cilium and the node-router running on it; default 20. */
    nodesReadyTimeoutMinutes: z.number().int().min(1).max(180).default(20),
    /** Set to acknowledge an even number of etcd members (no extra fault tolerance). */
    allowEvenEtcdMembers: z.boolean().default(false),
    /** Host (DNS name or IPv4) the admin kubeconfig and Pulumi use; default the first control plane's address. */
    apiEndpoint: z.string().optional(),
    /** Hours a kubeadm join token is valid; `pulumi up` issues a fresh one once less than half is left. */
    joinTokenTtlHours: z.number().int().min(1).max(168).default(4),
    /** Hours the admin kubeconfig's certificate (group kubeadm:cluster-admins) is valid; renewed by `pulumi up` in its last third. */
    adminCertValidityHours: z.number().int().min(2).max(8760).default(720),
    /** Nodes to rebuild with the current image and boot files, one at a time, once per listing (README, "Rebuilding a node"). */
    replaceNodes: z.array(z.string()).default([]),
    /** How `pulumi up` rolls a kubernetesVersion or containerdVersion change through the running nodes (README, "Upgrades"). */
    upgrade: z
      .object({
        /** Workers upgraded at once (control planes always one at a time); default 1. */
        maxUnavailable: z.number().int().min(1).max(100).default(1),
        /** Minutes a node's drain may take (PodDisruptionBudgets may hold it) before the run stops; default 15. */
        drainTimeoutMinutes: z.number().int().min(1).max(240).default(15),
        /** Minutes a node's upgrade and its return (Ready, Cilium and the node-router Running) may take; default 30. */
        nodeTimeoutMinutes: z.number().int().min(5).max(240).default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const ciliumSchema = z
  .object({
    /** Cilium chart version; one of the supported chart lines. */
    version: z.string().optional(),
    /** IPAM mode: cluster-pool (Cilium allocates) or kubernetes (Node.spec.podCIDRs). */
    ipam: z.enum(IpamMode).default(IpamMode.ClusterPool),
    /** CIDR Cilium routes natively; must cover podCidr. Defaults to podCidr. */
    nativeRoutingCidr: cidr.optional(),
    /** Hubble UI in addition to Hubble and its relay. */
    hubbleUi: z.boolean().default(false),
  })
  .strict()
  .default({ ipam: "cluster-pool", hubbleUi: false });

// The agent's settings under the agent's own names, documented once, on AgentSettings
// (components/nodeRouter/settings.ts); the agent's own parser checks their values.
const int = z.number().int().optional();
const text = z.string().optional();
const nodeRouterSchema = z
  .object({
    /** Agent image pinned by digest, `<repo>@sha256:<64 hex>`; required (built from agent/Dockerfile). */
    image: z.string(),
    /** Allow exempt ports beyond 6443 and 2379-2380 (weakens the guarantee); default false. */
    allowExtraExemptPorts: z.boolean().optional(),
    /** Secrets (kubernetes.io/dockerconfigjson, in the agent's namespace) to pull a private agent image with; default none. */
    imagePullSecrets: z.array(z.string()).optional(),
    device: text,
    steeringTable: int,
    controlPlaneTable: int,
    rulePriority: int,
    wgMark: z.union([z.string(), z.number().int()]).optional(),
    wgMask: z.union([z.string(), z.number().int()]).optional(),
    exemptPorts: z.array(z.union([z.number().int(), z.string()])).optional(),
    controlPlaneSelector: text,
    resyncSeconds: int,
    healthPort: int,
    metricsAddress: text,
    logLevel: z.enum(["debug", "info", "warn", "error"]).optional(),
    exemptReplyMark: z.union([z.string(), z.number().int()]).optional(),
    metadataAddresses: z.array(z.string()).optional(),
    metadataCgroups: z.array(z.string()).optional(),
    underlayDevices: z.array(z.string()).optional(),
  })
  .strict();

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
const labelName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const alertsSchema = z
  .object({
    /** Create the node-router alerts as a PrometheusRule (needs the Prometheus Operator's CRDs); default false. */
    prometheusRule: z.boolean().default(false),
    /** Namespace of the PrometheusRule; default kube-system. */
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a Kubernetes namespace name (lower-case letters, digits and '-')")
      .default("kube-system"),
    /** Labels on the PrometheusRule, e.g. {release: kube-prometheus-stack} for that chart's ruleSelector. */
    labels: z
      .record(z.string(), z.string())
      .superRefine((labels, ctx) => {
        for (const [k, v] of Object.entries(labels)) {
          if (!labelName.test(k))
            ctx.addIssue({ code: "custom", path: [k], message: `"${k}" is not a Kubernetes label name; use e.g. release or example.com/team` });
          else if (!labelValue.test(v))
            ctx.addIssue({
              code: "custom",
              path: [k],
              message: `"${v}" is not a Kubernetes label value (at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric)`,
            });
        }
      })
      .default({}),
  })
  .strict()
  .default({ prometheusRule: false, namespace: "kube-system", labels: {} });

export const stackConfigSchema = z
  .object({
    cluster: clusterSchema,
    aws: awsSchema.optional(),
    gcp: gcpSchema.optional(),
    cilium: ciliumSchema,
    nodeRouter: nodeRouterSchema,
    alerts: alertsSchema,
    preflight: preflightSchema,
  })
  .strict();

export type StackConfig = z.infer<typeof stackConfigSchema>;
