// The metadata-blocking policy against the CRD facts of every pinned Cilium line: every field
// it sets exists with that type, and it never makes pods default-deny.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SUPPORTED } from "./chartVersions";
import { METADATA_CIDRS, metadataPolicy } from "./metadataPolicy";

const facts = JSON.parse(readFileSync(join(__dirname, "crdFacts", "ciliumclusterwidenetworkpolicies.json"), "utf8")) as {
  apiVersion: string; kind: string; versions: Record<string, Record<string, string>>;
};

/** Every value's schema path (`a.b[].c`) and JSON type. */
function typedPaths(value: unknown, path = ""): [string, string][] {
  const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value === "object" ? "object" : typeof value;
  const here: [string, string][] = path ? [[path, type]] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v) => typedPaths(v, `${path}[]`))];
  if (value && typeof value === "object") return [...here, ...Object.entries(value).flatMap(([k, v]) => typedPaths(v, path ? `${path}.${k}` : k))];
  return here;
}

const unknownPaths = (obj: unknown, schema: Record<string, string>) => typedPaths(obj).filter(([p, t]) => schema[p] !== t);

describe.each(SUPPORTED.map((s) => s.version))("CiliumClusterwideNetworkPolicy of Cilium %s", (version) => {
  it("uses only spec fields the CRD has, with their types", () => {
    const schema = facts.versions[version];
    expect(schema).toBeDefined();
    const policy = metadataPolicy();
    expect([policy.apiVersion, policy.kind]).toEqual([facts.apiVersion, facts.kind]);
    expect(unknownPaths({ spec: policy.spec }, schema)).toEqual([]);
  });
});

it("the check can fail: a misspelt field or a wrong type is reported", () => {
  const schema = facts.versions["1.20.0"];
  expect(unknownPaths({ spec: { egressDeny: [{ toCIDRs: ["169.254.169.254/32"] }] } }, schema)).toEqual([["spec.egressDeny[].toCIDRs", "array"], ["spec.egressDeny[].toCIDRs[]", "string"]]);
  expect(unknownPaths({ spec: { enableDefaultDeny: { egress: "false" } } }, schema)).toEqual([["spec.enableDefaultDeny.egress", "string"]]);
});

it("selects every pod, denies only the metadata addresses, and puts no pod into default-deny", () => {
  const { spec } = metadataPolicy();
  expect(spec.endpointSelector).toEqual({});
  expect(spec).not.toHaveProperty("nodeSelector"); // the host keeps its access
  expect(spec.enableDefaultDeny).toEqual({ egress: false, ingress: false });
  expect(spec).not.toHaveProperty("egress");
  expect(spec).not.toHaveProperty("ingress");
  expect(spec.egressDeny).toEqual([{ toCIDR: [...METADATA_CIDRS] }]);
  expect(METADATA_CIDRS).toContain("169.254.169.254/32"); // AWS IMDS and metadata.google.internal
});
