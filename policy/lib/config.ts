// One source for each policy's config: a zod schema gives both the TypeScript type (z.infer)
// and the JSON schema the Pulumi CLI validates `--policy-pack-config` against.
import type { PolicyConfigSchema } from "@pulumi/policy";
import { z } from "zod";
import { isCidr } from "./cidr";
import { parsePorts } from "./ports";
import { deepFreeze } from "./shared-properties";

export interface PolicyConfig<S extends z.ZodObject> {
  configSchema: PolicyConfigSchema;
  /** Parses getConfig() output, applying defaults; bad input names the field. */
  read(args: { getConfig<T extends object>(): T }, policyName: string): z.infer<S>;
}

export function policyConfig<S extends z.ZodObject>(schema: S): PolicyConfig<S> {
  // "input" mode: fields with defaults are optional for the user.
  const json = z.toJSONSchema(schema, { io: "input" }) as { properties?: Record<string, object>; required?: string[] };
  const configSchema: PolicyConfigSchema = { properties: (json.properties ?? {}) as PolicyConfigSchema["properties"] };
  if (json.required && json.required.length > 0) configSchema.required = json.required;
  // The last config parsed, by its JSON text: a resource policy reads its config for every
  // resource of a preview, and the runtime hands the same config (a JSON Struct's conversion) each
  // time. Only plain JSON input is cached (jsonText), so equal text means equal input; the parsed
  // config is frozen, so no caller can change what the next one reads. Invalid config is parsed
  // (and reported) every time.
  let last: { text: string; data: z.infer<S> } | undefined;
  return {
    configSchema,
    read(args, policyName) {
      const raw = args.getConfig<object>();
      const text = jsonText(raw);
      if (text !== undefined && last?.text === text) return last.data;
      const result = schema.safeParse(raw);
      if (result.success) {
        if (text !== undefined) {
          deepFreeze(result.data, () => false);
          last = { text, data: result.data };
        }
        return result.data;
      }
      const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
      throw new Error(`invalid config for policy '${policyName}': ${problems}; fix it in your --policy-pack-config file`);
    },
  };
}

/** JSON text of a value made only of JSON (null, booleans, finite numbers, strings, plain arrays and objects); undefined for anything else. */
function jsonText(value: unknown): string | undefined {
  const plainJson = (v: unknown): boolean => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return true;
    if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0);
    if (Array.isArray(v)) return Object.getPrototypeOf(v) === Array.prototype && Object.keys(v).length === v.length && v.every(plainJson);
    if (typeof v !== "object") return false;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.getOwnPropertySymbols(v).length === 0 && Object.values(v).every((x) => x !== undefined && plainJson(x));
  };
  return plainJson(value) ? JSON.stringify(value) : undefined;
}

/** Port lists such as ["6443", "2379-2380"] or [6443]. */
export const portList = z.array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}(-\d{1,5})?$/)]));

/** A matcher for the node-routing agent's DaemonSet, shared by the policies that look for it. */
export const agentMatcher = z
  .object({
    label: z.string().default("app.kubernetes.io/name").describe("Label key that identifies the agent DaemonSet"),
    value: z.string().default("node-router").describe("Label value (also accepted as the DaemonSet's metadata.name)"),
    namespace: z.string().optional().describe("Only DaemonSets in this namespace count (default: any)"),
  })
  .default({ label: "app.kubernetes.io/name", value: "node-router" });

/** Cilium's WireGuard UDP port, as every policy that judges firewalls reads it (one declaration). */
export const wireguardPortField = { wireguardPort: z.number().int().min(1).max(65535).default(51871).describe("Cilium's WireGuard UDP port") };

/** How firewalls reveal their role; shared by the two firewall policies. */
export const roleFields = {
  roleTagKey: z.string().default("wg-mesh/role").describe("AWS security-group tag holding the node role"),
  controlPlaneRole: z.string().default("control-plane").describe("Value of roleTagKey on control-plane security groups"),
  gcpControlPlaneTagSuffix: z.string().default("-control-plane").describe("GCP target-tag suffix of control-plane nodes"),
  gcpWorkerTagSuffix: z.string().default("-worker").describe("GCP target-tag suffix of worker nodes"),
  peerAddresses: z
    .enum(["public", "private"])
    .default("public")
    .describe("Which addresses nodes reach each other from: their static public addresses (this project) or their VPC-private ones"),
};

/** CIDR lists (admin networks, pod CIDRs); the refinement is enforced when the pack reads its config. */
export const cidrList = z.array(z.string().refine(isCidr, { message: "must be a CIDR such as 203.0.113.0/24" }));

/** The `podCidrs` setting of the policies that check CIDRs against the pod CIDRs (see ipv4PodCidrs). */
export const podCidrsSetting = cidrList.default([]).describe("Pod CIDRs of the cluster; when set, used instead of discovering them from the stack");

const integerText = z.union([z.number().int().min(1), z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/)]);

/** How the node-router agent may be configured; shared by the policies that judge its settings. */
export const agentFields = {
  agent: agentMatcher,
  allowedExemptPorts: portList.default(["6443", "2379-2380"]).describe("TCP ports the agent may exempt from WireGuard (Kubernetes API, etcd)"),
  wireguardDevice: z.string().default("cilium_wg0").describe("The WireGuard device the agent must steer into"),
  wireguardMark: integerText.default("0xe00").describe("Firewall mark of WireGuard's encrypted packets (Cilium's)"),
  wireguardMarkMask: integerText.default("0xf00").describe("The bits of wireguardMark that identify WireGuard's packets; the agent's mask must include them"),
  everyNodeLabelKeys: z
    .array(z.string())
    .default(["kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/hostname", "beta.kubernetes.io/os", "beta.kubernetes.io/arch"])
    .describe("Label keys every node carries: a control-plane selector needing only these matches every node"),
  nodeLabels: z
    .record(z.string(), z.array(z.string()))
    .default({ "kubernetes.io/os": ["linux"] })
    .describe("Labels every node that must run the agent carries (key -> possible values); nodeSelector/affinity may only require these"),
  controlPlaneTaintKey: z.string().default("node-role.kubernetes.io/control-plane"),
  allowedLocalInterfaces: z
    .array(z.string())
    .default(["lo", "cilium_host", "cilium_net", "lxc*"])
    .describe("Interfaces the agent's egress guard may treat as local (never an uplink such as eth0)"),
};

/** The agent limits in the shape lib/agent-settings.ts and lib/agent-pod.ts use. */
export function agentLimits(cfg: {
  allowedExemptPorts: Array<string | number>;
  wireguardDevice: string;
  wireguardMark: string | number;
  wireguardMarkMask: string | number;
  everyNodeLabelKeys: string[];
  nodeLabels: Record<string, string[]>;
  controlPlaneTaintKey: string;
  allowedLocalInterfaces: string[];
}) {
  return {
    allowedExemptPorts: parsePorts(cfg.allowedExemptPorts),
    wireguardDevice: cfg.wireguardDevice,
    wireguardMark: Number(cfg.wireguardMark),
    wireguardMarkMask: Number(cfg.wireguardMarkMask),
    everyNodeLabelKeys: cfg.everyNodeLabelKeys,
    nodeLabels: cfg.nodeLabels,
    controlPlaneTaintKey: cfg.controlPlaneTaintKey,
    allowedLocalInterfaces: cfg.allowedLocalInterfaces,
  };
}
