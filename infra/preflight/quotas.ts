// The clouds' live quotas against what this run will create, read where the providers can
// read them: a stack that needs the 5th Elastic IP of an account that already has 2 fails
// mid-run, after the founder exists. What cannot be read (no permission, API disabled) falls
// back to the configured numbers (aws.quotas.*, gcp.quotas.*, checked by infra/quotas.ts)
// with a warning. The arithmetic is pure (quotaVerdict); the reads are the providers' invokes,
// made through the default providers with an explicit region, so no resource (not even a
// provider) is registered before the run is known to fit.
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import type { StackModel } from "../model";
import { computeFirewallIntents, intentsFor } from "../../components/core/firewallIntents";
import type { NodeSpec } from "../../components/core/nodes";

/** A read that may be denied: the value, or why it could not be read. */
export type Read = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

export interface QuotaCheck {
  /** The stack key the refusal names (where the need comes from, or the configured fallback). */
  readonly key: string;
  /** The quota as the cloud's console names it, with its code. */
  readonly quota: string;
  /** Where: `in eu-west-1`, `in europe-west1 for project p`. */
  readonly where: string;
  /** What this run needs of it. */
  readonly need: number;
  readonly limit: Read;
  /** What is already used outside this stack (not subtracted when not read). */
  readonly usedElsewhere?: Read;
  /** How to request more. */
  readonly request: string;
  /** The configured number validation already held the stack to, named when the read is denied. */
  readonly fallback?: string;
}

/** The refusal or warning for one quota; pure. A negative limit is unlimited. */
export function quotaVerdict(c: QuotaCheck): { problem?: string; warning?: string } {
  const skip = "or skip this check with preflight.skip: [quotas]";
  if (!c.limit.ok) {
    return {
      warning: `${c.key}: could not read the quota ${c.quota} ${c.where} (${c.limit.error}); ${c.fallback ? `relying on the configured ${c.fallback}` : "not checked"}`,
    };
  }
  if (c.limit.value < 0) return {};
  const used = c.usedElsewhere?.ok ? c.usedElsewhere.value : 0;
  const free = c.limit.value - used;
  const warning =
    c.usedElsewhere && !c.usedElsewhere.ok
      ? `${c.key}: could not read what already uses ${c.quota} ${c.where} (${c.usedElsewhere.error}); compared with the whole quota`
      : undefined;
  if (c.need <= free) return { warning };
  const usedText = used > 0 ? ` of which ${used} already used outside this stack, so ${free} free` : "";
  return {
    warning,
    problem: `${c.key}: this run needs ${c.need} of the quota ${c.quota} ${c.where}, which is ${c.limit.value}${usedText}; ${c.request}, ${skip}`,
  };
}

async function read(f: () => Promise<number>): Promise<Read> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    // The provider's error, first line (the rest is its stack of retries).
    return {
      ok: false,
      error:
        String((e as Error).message ?? e)
          .split("\n")
          .find((l) => l.trim() !== "")
          ?.trim() ?? "the read failed",
    };
  }
}

/** Sum of f over the nodes' machine types, each type read once. */
async function perType(nodes: readonly NodeSpec[], f: (n: NodeSpec) => Promise<number>): Promise<number> {
  const byType = new Map<string, Promise<number>>();
  let total = 0;
  for (const n of nodes) {
    const k = `${n.zone}/${n.machineType}`;
    if (!byType.has(k)) byType.set(k, f(n));
    total += await byType.get(k)!;
  }
  return total;
}

async function awsChecks(model: StackModel, key: (k: string) => string): Promise<QuotaCheck[]> {
  const region = model.providers.aws!.region;
  const nodes = model.cluster.nodes.filter((n) => n.cloud === "aws");
  if (nodes.length === 0) return [];
  const quota = (quotaCode: string) => read(async () => (await aws.servicequotas.getServiceQuota({ serviceCode: "ec2", quotaCode, region })).value);
  const names = nodes.map((n) => n.name);
  // This stack's own addresses (tagged with their node's name) are not "elsewhere" on a later run.
  const elsewhere = read(async () => {
    const all = await aws.ec2.getEips({ region });
    const own = await aws.ec2.getEips({ region, filters: [{ name: "tag:Name", values: names }] });
    return all.allocationIds.length - own.allocationIds.length;
  });
  const vcpus = read(() => perType(nodes, async (n) => (await aws.ec2.getInstanceType({ instanceType: n.machineType, region })).defaultVcpus));
  const vcpusElsewhere = read(() => standardVcpusElsewhere(region, new Set(names)));
  const [eipLimit, eipUsed, vcpuLimit, vcpuNeed, vcpuUsed] = await Promise.all([quota("L-0263D0A3"), elsewhere, quota("L-1216C47A"), vcpus, vcpusElsewhere]);
  const checks: QuotaCheck[] = [
    {
      key: key("aws.quotas.elasticIps"),
      quota: `"EC2-VPC Elastic IPs" (ec2, L-0263D0A3)`,
      where: `in ${region}`,
      need: nodes.length,
      limit: eipLimit,
      usedElsewhere: eipUsed,
      fallback: "aws.quotas.elasticIps",
      request: `release unused Elastic IPs (\`aws ec2 describe-addresses --region ${region}\`) or request more in Service Quotas (\`aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-0263D0A3 --desired-value ${nodes.length + (eipUsed.ok ? eipUsed.value : 0)} --region ${region}\`)`,
    },
  ];
  if (vcpuNeed.ok) {
    checks.push({
      key: key("aws.pools"),
      quota: `"Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" vCPUs (ec2, L-1216C47A)`,
      where: `in ${region}`,
      need: vcpuNeed.value,
      limit: vcpuLimit,
      usedElsewhere: vcpuUsed,
      request: `request more (\`aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A --desired-value ${vcpuUsed.ok ? vcpuUsed.value + vcpuNeed.value : `<running vCPUs + ${vcpuNeed.value}>`} --region ${region}\`) or choose smaller machine types`,
    });
  } else {
    checks.push({
      key: key("aws.pools"),
      quota: "vCPUs per machine type (ec2 DescribeInstanceTypes)",
      where: `in ${region}`,
      need: 0,
      limit: vcpuNeed,
      request: "",
    });
  }
  return checks;
}

/**
 * Instance families the "Running On-Demand Standard" vCPU quota (L-1216C47A) counts: A, C, D, H, I,
 * M, R, T, Z (im4gn and is4gen are I); not Inferentia (inf), Trainium (trn), DL, HPC or Mac,
 * which have quotas of their own.
 */
export const STANDARD_FAMILY = /^(a|c|d|h|i|im|is|m|r|t|z)\d/;
/** Running instances the preflight reads one by one; an account with more is compared with the whole quota (warned). */
export const MAX_INSTANCES_READ = 200;

/** vCPUs of the region's pending and running standard instances that are not this stack's nodes (by their Name tag). */
async function standardVcpusElsewhere(region: string, ownNames: ReadonlySet<string>): Promise<number> {
  const { ids } = await aws.ec2.getInstances({ region, instanceStateNames: ["pending", "running"] });
  if (ids.length > MAX_INSTANCES_READ) throw new Error(`${ids.length} running instances, more than the ${MAX_INSTANCES_READ} the preflight reads one by one`);
  const instances = await Promise.all(ids.map((instanceId) => aws.ec2.getInstance({ instanceId, region })));
  const counted = instances.filter((i) => !ownNames.has(i.tags?.Name ?? "") && STANDARD_FAMILY.test(i.instanceType));
  // The quota counts default vCPUs (a type's, whatever its CPU options): one read per type.
  const perType = new Map<string, Promise<number>>();
  const vcpusOf = (instanceType: string) => {
    if (!perType.has(instanceType))
      perType.set(
        instanceType,
        aws.ec2.getInstanceType({ instanceType, region }).then((t) => t.defaultVcpus),
      );
    return perType.get(instanceType)!;
  };
  return (await Promise.all(counted.map((i) => vcpusOf(i.instanceType)))).reduce((a, b) => a + b, 0);
}

/** GCP's quota value for a region (or the project-wide one), from a Cloud Quotas QuotaInfo. */
export function gcpQuotaValue(info: gcp.cloudquota.GetSQuotaInfoResult, region?: string): number {
  const infos = info.dimensionsInfos ?? [];
  const match =
    infos.find((d) => region !== undefined && d.dimensions?.region === region) ?? infos.find((d) => !d.dimensions || Object.keys(d.dimensions).length === 0);
  const value = match?.details?.[0]?.value;
  if (value === undefined) throw new Error(`no value for ${region ?? "the project"} in ${info.quotaId}`);
  return Number(value);
}

async function gcpChecks(model: StackModel, key: (k: string) => string): Promise<QuotaCheck[]> {
  const { project, region } = model.providers.gcp!;
  const all = model.cluster.nodes;
  const nodes = all.filter((n) => n.cloud === "gcp");
  if (nodes.length === 0) return [];
  const quota = (quotaId: string, r?: string) =>
    read(async () => gcpQuotaValue(await gcp.cloudquota.getSQuotaInfo({ parent: `projects/${project}`, service: "compute.googleapis.com", quotaId }), r));
  const names = new Set(nodes.map((n) => n.name));
  const elsewhere = read(async () => (await gcp.compute.getAddresses({ project, region })).addresses.filter((a) => !names.has(a.name)).length);
  const cpus = read(() =>
    perType(nodes, async (n) => {
      const types = await gcp.compute.getMachineTypes({ project, zone: n.zone, filter: `name = "${n.machineType}"` });
      const t = types.machineTypes.find((m) => m.name === n.machineType);
      if (!t) throw new Error(`machine type ${n.machineType} not offered in ${n.zone}`);
      return t.guestCpus;
    }),
  );
  const intents = computeFirewallIntents(all, model.cluster.adminCidrs ?? [], model.cluster.wireguardFrom);
  const rules = [...new Set(nodes.map((n) => n.role))].flatMap((role) =>
    intentsFor(
      intents,
      nodes.filter((n) => n.role === role).map((n) => n.name),
    ),
  ).length;
  const [addrLimit, addrUsed, cpuLimit, cpuNeed, fwLimit] = await Promise.all([
    quota("STATIC-ADDRESSES-per-project-region", region),
    elsewhere,
    quota("CPUS-per-project-region", region),
    cpus,
    quota("FIREWALLS-per-project"),
  ]);
  const where = `in ${region} for project ${project}`;
  const console = `https://console.cloud.google.com/iam-admin/quotas?project=${project}`;
  return [
    {
      key: key("gcp.quotas.staticAddresses"),
      quota: `"Static IP addresses" (STATIC_ADDRESSES)`,
      where,
      need: nodes.length,
      limit: addrLimit,
      usedElsewhere: addrUsed,
      fallback: "gcp.quotas.staticAddresses",
      request: `release unused addresses (\`gcloud compute addresses list --project ${project} --filter region:${region}\`) or request more at ${console}`,
    },
    cpuNeed.ok
      ? {
          key: key("gcp.pools"),
          quota: `"CPUs" (CPUS)`,
          where,
          need: cpuNeed.value,
          limit: cpuLimit,
          request: `request more at ${console} or choose smaller machine types`,
        }
      : { key: key("gcp.pools"), quota: "vCPUs per machine type (compute machineTypes.list)", where, need: 0, limit: cpuNeed, request: "" },
    {
      key: key("gcp.quotas.firewallRules"),
      quota: `"Firewall rules" (FIREWALLS)`,
      where: `for project ${project}`,
      need: rules,
      limit: fwLimit,
      fallback: "gcp.quotas.firewallRules",
      request: `request more at ${console}`,
    },
  ];
}

/** Every quota check of the stack, read from the clouds. */
export async function quotaChecks(model: StackModel, project: string): Promise<QuotaCheck[]> {
  const key = (k: string) => `${project}:${k}`;
  const [a, g] = await Promise.all([model.providers.aws ? awsChecks(model, key) : [], model.providers.gcp ? gcpChecks(model, key) : []]);
  return [...a, ...g];
}
