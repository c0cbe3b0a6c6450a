// Checks a NodeBootstrap before anything is rendered. Every value ends up in a shell env
// file, a kubeadm config or a systemd unit, so each is held to a strict format here and
// a bad one fails `pulumi up` with the field's name and the fix, not a node that never joins.
import ipaddr from "ipaddr.js";
import { parseNodeTable } from "../../../agent/src/nodeTable";
import { IMAGE_PATTERN } from "../../nodeRouter/settings";
import { guardAgentSettings } from "./bootGuard";
import type { NodeBootstrap, SecretRef } from "./types";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// The stack's schema (infra/configSchema.ts) checks these versions with these same patterns: what
// it accepts renders here, and what would be refused here is refused before anything is registered.
/** A Kubernetes release, MAJOR.MINOR.PATCH without a leading v (the pkgs.k8s.io packages' upstream version). */
export const K8S_VERSION = /^1\.(\d+)\.(\d+)$/;
/** containerd's upstream MAJOR.MINOR.PATCH; packages.sh adds the Debian revision itself. */
export const CONTAINERD_VERSION = /^\d+\.\d+\.\d+$/;
const HASH = /^sha256:[0-9a-f]{64}$/;
/** An AWS region name, e.g. eu-west-1 (the schema checks aws.region with it too). */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// Secrets Manager names/ARNs and Secret Manager ids: no quotes, spaces or shell metacharacters.
const AWS_SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
/** A GCP project id (not its number or display name; the schema checks gcp.project with it too). */
export const GCP_PROJECT = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const GCP_SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

function fail(field: string, value: unknown, fix: string): never {
  throw new Error(`NodeBootstrap.${field} = ${JSON.stringify(value)} is invalid: ${fix}`);
}

function checkIpv4(field: string, value: string): void {
  if (!ipaddr.IPv4.isValidFourPartDecimal(value)) fail(field, value, "use a dotted-quad IPv4 address such as 203.0.113.10");
}

function checkCidr(field: string, value: string): void {
  try {
    ipaddr.parseCIDR(value);
  } catch {
    fail(field, value, "use CIDR notation such as 10.244.0.0/16");
  }
}

export function validateBootstrap(b: NodeBootstrap): void {
  if (!DNS_LABEL.test(b.clusterName)) fail("clusterName", b.clusterName, "use a DNS label (lowercase letters, digits, '-', at most 63 chars)");
  if (!DNS_LABEL.test(b.nodeName)) fail("nodeName", b.nodeName, "use a DNS label (lowercase letters, digits, '-', at most 63 chars)");
  if (b.cloud !== "aws" && b.cloud !== "gcp") fail("cloud", b.cloud, 'use "aws" or "gcp"');
  if (b.role !== "control-plane" && b.role !== "worker") fail("role", b.role, 'use "control-plane" or "worker"');
  if (b.mayInit && b.role !== "control-plane") fail("mayInit", b.mayInit, "only a control-plane node can run `kubeadm init`; set mayInit: false on workers");
  checkIpv4("nodeIp", b.nodeIp);
  if (b.controlPlanes.length === 0) fail("controlPlanes", b.controlPlanes, "list every control-plane node (name and public IP; at least one)");
  b.controlPlanes.forEach((cp, i) => {
    if (!DNS_LABEL.test(cp.name)) fail(`controlPlanes[${i}].name`, cp.name, "use the control plane's node name (a DNS label)");
    checkIpv4(`controlPlanes[${i}].ip`, cp.ip);
  });
  if (b.role === "control-plane" && !b.controlPlanes.some((cp) => cp.name === b.nodeName && cp.ip === b.nodeIp))
    fail("controlPlanes", b.controlPlanes, `include this control-plane node (${b.nodeName}, ${b.nodeIp}): its join order and etcd member come from that list`);
  b.extraCertSans.forEach((san, i) => {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(san)) fail(`extraCertSans[${i}]`, san, "use a host name or IPv4 address");
  });
  if (!/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/.test(b.caCertPem))
    fail("caCertPem", "<pem>", "give the cluster CA certificate as one PEM block");
  if (!IMAGE_PATTERN.test(b.agentImage)) fail("agentImage", b.agentImage, "use the digest-pinned node-router image, <repo>@sha256:<64 hex>");
  if (!K8S_VERSION.test(b.kubernetesVersion)) fail("kubernetesVersion", b.kubernetesVersion, 'use "MAJOR.MINOR.PATCH" without a leading v, e.g. "1.34.2"');
  if (!CONTAINERD_VERSION.test(b.containerdVersion)) fail("containerdVersion", b.containerdVersion, 'use "MAJOR.MINOR.PATCH", e.g. "1.7.28"');
  checkCidr("podCidr", b.podCidr);
  checkCidr("serviceCidr", b.serviceCidr);
  if (!HASH.test(b.discoveryHash)) fail("discoveryHash", b.discoveryHash, 'use "sha256:<64 lowercase hex>" from discoveryTokenCaCertHash()');
  validatePkiSecret(b);
  validateSecretRef(b, "joinTokenSecret", b.joinTokenSecret);
  validateGuard(b);
}

// The boot guard is rendered from the table and the settings by the agent's own code, so they are
// checked by the agent's own parsers: what renders here is what the agent would accept.
function validateGuard(b: NodeBootstrap): void {
  let table;
  try {
    table = parseNodeTable(b.nodeTable);
  } catch (e) {
    fail("nodeTable", "<json>", `give the node table document (components/core/nodeTable.ts) the agent parses: ${(e as Error).message}`);
  }
  if (!table.nodes.some((n) => n.name === b.nodeName)) fail("nodeTable", "<json>", `list this node (${b.nodeName}) in the node table`);
  try {
    guardAgentSettings(b.guard);
  } catch (e) {
    fail("guard", b.guard, `give the node-router agent's settings as the DaemonSet runs it: ${(e as Error).message}`);
  }
}

function validatePkiSecret(b: NodeBootstrap): void {
  const ref = b.pkiSecret;
  if (b.role === "worker") {
    if (ref) fail("pkiSecret", ref, "workers must not get the PKI bundle; leave pkiSecret unset on workers");
    return;
  }
  validateSecretRef(b, "pkiSecret", ref);
}

/** A reference to a secret in the node's own cloud (the only store its identity can read). */
function validateSecretRef(b: NodeBootstrap, field: string, ref: SecretRef | undefined): void {
  const want = b.cloud;
  if (!ref?.[want]) fail(field, ref, `a ${b.cloud} ${b.role} node needs ${field}.${want} (the secret in its own cloud it reads at boot)`);
  if (ref.aws && ref.gcp) fail(field, ref, `set exactly one of ${field}.aws / ${field}.gcp (the node's own cloud)`);
  if (ref.aws) {
    if (!AWS_REGION.test(ref.aws.region)) fail(`${field}.aws.region`, ref.aws.region, 'use an AWS region such as "eu-west-1"');
    if (!AWS_SECRET_ID.test(ref.aws.secretId)) fail(`${field}.aws.secretId`, ref.aws.secretId, "use the secret's name or ARN");
  }
  if (ref.gcp) {
    if (!GCP_PROJECT.test(ref.gcp.project)) fail(`${field}.gcp.project`, ref.gcp.project, "use the GCP project id (not its number or name)");
    if (!GCP_SECRET_ID.test(ref.gcp.secretId)) fail(`${field}.gcp.secretId`, ref.gcp.secretId, "use the short secret id (not projects/.../secrets/...)");
  }
}
