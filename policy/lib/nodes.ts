// Which resources put Kubernetes nodes (machines) into a stack, and in which cloud.
// Nodes are what the program says are nodes (issue 23, class 8):
//   - AWS instances: the role tag (`wg-mesh/role`, components/aws/tags.ts) on the instance or on
//     one of its network interfaces, or user data that runs kubeadm;
//   - GCP instances: a network tag ending in the role suffixes (`<cluster>-control-plane`,
//     `<cluster>-worker`, components/gcp), a `wg-mesh-role` label, or user data that runs kubeadm;
//   - launch/instance templates, ASGs, MIGs and `extraNodeTypes`: always (they exist for nodes).
// An instance with none of these (a bastion, a build host) is not a node. A program that marks
// no instance of a cloud at all is not using these marks: every instance of that cloud counts.
import { gunzipSync } from "node:zlib";
import { refersTo, TYPES, type Res } from "./resources";
import { isUnknown } from "./unknowns";
import { asArray, asRecord, at } from "./values";

export const NODE_TYPES: readonly string[] = [
  "aws:ec2/instance:Instance",
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:autoscaling/group:Group",
  "gcp:compute/instance:Instance",
  "gcp:compute/instanceTemplate:InstanceTemplate",
  "gcp:compute/instanceGroupManager:InstanceGroupManager",
  "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
];

/** How the program marks its nodes (the role options of the firewall policies). */
export interface NodeMarks {
  roleTagKey: string;
  gcpControlPlaneTagSuffix: string;
  gcpWorkerTagSuffix: string;
}
export const DEFAULT_MARKS: NodeMarks = { roleTagKey: "wg-mesh/role", gcpControlPlaneTagSuffix: "-control-plane", gcpWorkerTagSuffix: "-worker" };
const GCP_ROLE_LABEL = "wg-mesh-role";

export function isNodeResource(r: Res, extraTypes: readonly string[] = []): boolean {
  return NODE_TYPES.includes(r.type) || extraTypes.includes(r.type);
}

const INSTANCES: ReadonlySet<string> = new Set(["aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest", TYPES.gcpInstance]);

function userData(r: Res): string {
  const out: string[] = [];
  for (const k of ["userData", "metadataStartupScript"]) {
    const v = r.props[k];
    if (typeof v === "string") out.push(v);
  }
  for (const k of ["user-data", "startup-script"]) {
    const v = at(r.props, `metadata.${k}`);
    if (typeof v === "string") out.push(v);
  }
  const b64 = r.props["userDataBase64"];
  if (typeof b64 === "string") {
    const bytes = Buffer.from(b64, "base64");
    try {
      out.push(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8"));
    } catch {
      /* not gzip */
    }
  }
  return out.join("\n");
}

const runsKubeadm = (r: Res) => /\bkubeadm\s+(join|init)\b|kind:\s*(Join|Init)Configuration/.test(userData(r));

function awsMarked(r: Res, marks: NodeMarks, enis: readonly Res[]): boolean {
  const tags = asRecord(r.props["tags"]);
  if (isUnknown(tags) || tags[marks.roleTagKey] !== undefined) return true;
  const deps = r.propertyDependencies;
  return enis.some((eni) => {
    const t = asRecord(eni.props["tags"]);
    if (isUnknown(t) || t[marks.roleTagKey] === undefined) return false;
    const listed = asArray(r.props["networkInterfaces"]);
    return (
      refersTo(at(r.props, "primaryNetworkInterface.networkInterfaceId"), deps["primaryNetworkInterface"], eni) ||
      (Array.isArray(listed) && listed.some((ni) => refersTo(at(ni, "networkInterfaceId"), deps["networkInterfaces"], eni))) ||
      refersTo(at(eni.props, "attachment.instance"), eni.propertyDependencies["attachment"], r) ||
      (asArray(eni.props["attachments"]) as unknown[]).some((a) => refersTo(at(a, "instance"), eni.propertyDependencies["attachments"], r))
    );
  });
}

function gcpMarked(r: Res, marks: NodeMarks): boolean {
  const tags = asArray(r.props["tags"]);
  if (isUnknown(tags)) return true;
  if (tags.some((t) => isUnknown(t) || (typeof t === "string" && (t.endsWith(marks.gcpControlPlaneTagSuffix) || t.endsWith(marks.gcpWorkerTagSuffix)))))
    return true;
  const labels = asRecord(r.props["labels"]);
  return isUnknown(labels) || labels[GCP_ROLE_LABEL] !== undefined;
}

/** The node resources of a stack (see the header for what makes an instance a node). */
export function nodeResources(resources: readonly Res[], extraTypes: readonly string[] = [], marks: NodeMarks = DEFAULT_MARKS): Res[] {
  const candidates = resources.filter((r) => isNodeResource(r, extraTypes));
  if (!candidates.some((r) => INSTANCES.has(r.type))) return candidates;
  const enis = resources.filter((r) => r.type === TYPES.awsNetworkInterface);
  const marked = new Map<Res, boolean>();
  for (const r of candidates) {
    if (!INSTANCES.has(r.type)) continue;
    marked.set(r, cloudOf(r) === "gcp" ? gcpMarked(r, marks) : awsMarked(r, marks, enis));
  }
  const cloudMarks = new Set([...marked].filter(([, m]) => m).map(([r]) => cloudOf(r)));
  return candidates.filter((r) => !INSTANCES.has(r.type) || marked.get(r) === true || !cloudMarks.has(cloudOf(r)) || runsKubeadm(r));
}

/** Cloud of a resource from its provider package ("aws", "gcp", ...). */
export function cloudOf(r: Res): string {
  return r.type.split(":")[0];
}
