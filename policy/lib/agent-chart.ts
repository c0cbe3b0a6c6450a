// A node-router Helm chart the pack cannot look inside. Its rendered DaemonSet is checked when
// the stack shows it (helm.v4.Chart registers its objects as resources); otherwise only values in
// this documented shape can be verified (policy/README.md, "The agent as a Helm chart"):
//   values.tolerations      required: marks the shape; judged like the DaemonSet's
//   values.nodeSelector, values.affinity, values.hostNetwork (default true),
//   values.securityContext  (default: capabilities.add [NET_ADMIN]), values.image,
//   values.settings         agent flags by name: {"exempt-ports": "6443,2379-2380", device: ...}
//   values.env, values.envFrom, values.extraArgs   as in a container
// The chart must render these into the DaemonSet; that contract is what "documented" means.
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asRecord, at } from "./values";

export interface ChartPod {
  /** The pod spec the documented values describe, or UNKNOWN / undefined (not in the shape). */
  spec: Record<string, unknown> | Unknown | undefined;
}

export function chartPodSpec(values: unknown): ChartPod {
  if (isUnknown(values)) return { spec: UNKNOWN };
  const tolerations = at(values, "tolerations");
  if (tolerations === undefined) return { spec: undefined };
  const settings = asRecord(at(values, "settings"));
  const flags: unknown[] = isUnknown(settings) ? [UNKNOWN] : Object.entries(settings).map(([k, v]) => (isUnknown(v) ? UNKNOWN : `--${k}=${String(v)}`));
  const extra = at(values, "extraArgs");
  const image = at(values, "image");
  return {
    spec: {
      hostNetwork: at(values, "hostNetwork") ?? true,
      tolerations,
      nodeSelector: at(values, "nodeSelector"),
      affinity: at(values, "affinity"),
      containers: [
        {
          name: "node-router",
          image: typeof image === "string" || isUnknown(image) ? image : imageRef(image),
          args: isUnknown(extra) ? UNKNOWN : [...flags, ...(Array.isArray(extra) ? extra : [])],
          env: at(values, "env"),
          envFrom: at(values, "envFrom"),
          securityContext: at(values, "securityContext") ?? { capabilities: { add: ["NET_ADMIN"] } },
        },
      ],
    },
  };
}

/** {repository, tag, digest} as an image reference. */
function imageRef(image: unknown): string | Unknown | undefined {
  const repo = at(image, "repository");
  const tag = at(image, "tag");
  const digest = at(image, "digest");
  if ([repo, tag, digest].some(isUnknown)) return UNKNOWN;
  if (typeof repo !== "string") return undefined;
  return `${repo}${typeof tag === "string" && tag ? `:${tag}` : ""}${typeof digest === "string" && digest ? `@${digest}` : ""}`;
}
