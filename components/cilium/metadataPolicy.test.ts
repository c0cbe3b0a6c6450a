// The metadata-blocking policy against the CRD facts of every pinned Cilium line: every field
// it sets exists with that type (and, for enums, a value every line accepts), it never makes
// pods default-deny, and it denies TCP to the metadata addresses on every port but DNS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SUPPORTED } from "./chartVersions";
import { METADATA_CIDRS, metadataPolicy } from "./metadataPolicy";

const facts = JSON.parse(readFileSync(join(__dirname, "crdFacts", "ciliumclusterwidenetworkpolicies.json"), "utf8")) as {
  apiVersion: string;
  kind: string;
  versions: Record<string, Record<string, string>>;
  enums: Record<string, string[]>;
};

/** Every value's schema path (`a.b[].c`) and JSON schema type (integer for whole numbers, as the CRD's int32 fields). */
function typedPaths(value: unknown, path = ""): [string, string][] {
  const type = Array.isArray(value)
    ? "array"
    : value === null
      ? "null"
      : typeof value === "number" && Number.isInteger(value)
        ? "integer"
        : typeof value === "object"
          ? "object"
          : typeof value;
  const here: [string, string][] = path ? [[path, type]] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v) => typedPaths(v, `${path}[]`))];
  if (value && typeof value === "object") return [...here, ...Object.entries(value).flatMap(([k, v]) => typedPaths(v, path ? `${path}.${k}` : k))];
  return here;
}

/** Every string value with its path. */
function stringValues(value: unknown, path = ""): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v) => stringValues(v, `${path}[]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringValues(v, path ? `${path}.${k}` : k));
  return [];
}

const unknownPaths = (obj: unknown, schema: Record<string, string>) => typedPaths(obj).filter(([p, t]) => schema[p] !== t);
const badEnumValues = (obj: unknown) => stringValues(obj).filter(([p, v]) => facts.enums[p] !== undefined && !facts.enums[p].includes(v));

describe.each(SUPPORTED.map((s) => s.version))("CiliumClusterwideNetworkPolicy of Cilium %s", (version) => {
  it("uses only spec fields the CRD has, with their types, and enum values it accepts", () => {
    const schema = facts.versions[version];
    expect(schema).toBeDefined();
    const policy = metadataPolicy();
    expect([policy.apiVersion, policy.kind]).toEqual([facts.apiVersion, facts.kind]);
    expect(unknownPaths({ spec: policy.spec }, schema)).toEqual([]);
    expect(badEnumValues({ spec: policy.spec })).toEqual([]);
  });
});

it("the check can fail: a misspelt field, a wrong type or an unknown enum value is reported", () => {
  const schema = facts.versions["1.20.0"];
  expect(unknownPaths({ spec: { egressDeny: [{ toCIDRs: ["169.254.169.254/32"] }] } }, schema)).toEqual([
    ["spec.egressDeny[].toCIDRs", "array"],
    ["spec.egressDeny[].toCIDRs[]", "string"],
  ]);
  expect(unknownPaths({ spec: { enableDefaultDeny: { egress: "false" } } }, schema)).toEqual([["spec.enableDefaultDeny.egress", "string"]]);
  expect(unknownPaths({ spec: { egressDeny: [{ toPorts: [{ ports: [{ port: 80, endPort: "90" }] }] }] } }, schema)).toEqual([
    ["spec.egressDeny[].toPorts[].ports[].port", "integer"],
    ["spec.egressDeny[].toPorts[].ports[].endPort", "string"],
  ]);
  expect(badEnumValues({ spec: { egressDeny: [{ toPorts: [{ ports: [{ port: "80", protocol: "tcp" }] }] }] } })).toEqual([
    ["spec.egressDeny[].toPorts[].ports[].protocol", "tcp"],
  ]);
});

interface DenyRule {
  toCIDR: readonly string[];
  toPorts?: { ports: { port: string; endPort?: number; protocol?: string }[] }[];
}

/** Whether deny rules deny a pod `protocol` to `cidr` port `port`: toCIDR, and toPorts when given (none = every port, every protocol). */
function denies(rules: readonly DenyRule[], protocol: "TCP" | "UDP", cidr: string, port: number): boolean {
  return rules.some(
    (rule) =>
      rule.toCIDR.includes(cidr) &&
      (rule.toPorts === undefined ||
        rule.toPorts.some((pr) =>
          pr.ports.some((p) => [protocol, "ANY", undefined].includes(p.protocol) && Number(p.port) <= port && port <= (p.endPort ?? Number(p.port))),
        )),
  );
}
const shipped = (): DenyRule[] =>
  metadataPolicy().spec.egressDeny.map((r) => ({ toCIDR: r.toCIDR, toPorts: r.toPorts.map((pr) => ({ ports: pr.ports.map((p) => ({ ...p })) })) }));

it("selects every pod, denies only the metadata addresses, and puts no pod into default-deny", () => {
  const { spec } = metadataPolicy();
  expect(spec.endpointSelector).toEqual({});
  expect(spec).not.toHaveProperty("nodeSelector"); // host-network pods are the node guard's (socket cgroupv2)
  expect(spec.enableDefaultDeny).toEqual({ egress: false, ingress: false });
  expect(spec).not.toHaveProperty("egress");
  expect(spec).not.toHaveProperty("ingress");
  expect(spec.egressDeny.map((r) => r.toCIDR)).toEqual([[...METADATA_CIDRS]]);
  expect(METADATA_CIDRS).toContain("169.254.169.254/32"); // AWS IMDS and metadata.google.internal
});

it.each([...METADATA_CIDRS])("to %s: every TCP port but 53 denied (credentials over HTTP), DNS open on UDP and TCP 53 (GCP's resolver)", (cidr) => {
  for (const port of [1, 22, 52, 54, 80, 443, 8080, 65535]) expect([port, denies(shipped(), "TCP", cidr, port)]).toEqual([port, true]);
  expect(denies(shipped(), "TCP", cidr, 53)).toBe(false);
  expect(denies(shipped(), "UDP", cidr, 53)).toBe(false);
  expect(denies(shipped(), "UDP", cidr, 80)).toBe(false); // only DNS speaks UDP there
  // The ranges meet 53 exactly: nothing else slips between them.
  const tcp = metadataPolicy().spec.egressDeny[0].toPorts[0].ports;
  expect(tcp.map((p) => [p.protocol, Number(p.port), p.endPort])).toEqual([
    ["TCP", 1, 52],
    ["TCP", 54, 65535],
  ]);
});

it("control: the previous policy (toCIDR alone) denied DNS too, and the same check sees it", () => {
  const previous: DenyRule[] = [{ toCIDR: [...METADATA_CIDRS] }];
  expect(denies(previous, "UDP", "169.254.169.254/32", 53)).toBe(true);
  expect(denies(previous, "TCP", "169.254.169.254/32", 53)).toBe(true);
  expect(denies(shipped(), "UDP", "169.254.169.254/32", 53)).toBe(false);
});
