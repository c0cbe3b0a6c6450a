// The whole-schema checks the protocol test runs, on a small schema: clean as given, then one
// defect at a time, each reported.
import { schemaProblems, secretPaths, type Schema } from "./schemaFacts";

const clean = (): Schema => ({
  name: "wg-mesh",
  version: "0.1.0",
  resources: {
    "wg-mesh:index:Cluster": {
      isComponent: true,
      description: "A cluster.",
      inputProperties: { pools: { type: "array", items: { $ref: "#/types/wg-mesh:index:Pool" }, description: "Pools." } },
      requiredInputs: ["pools"],
      properties: {
        kubeconfig: { type: "string", description: "Admin kubeconfig.", secret: true },
        release: { $ref: "/kubernetes/v4.34.2/schema.json#/resources/kubernetes:helm.sh%2Fv3:Release", description: "The release." },
      },
      required: ["kubeconfig"],
    },
  },
  types: { "wg-mesh:index:Pool": { type: "object", properties: { name: { type: "string", description: "Name." } } } },
});

describe("schemaProblems", () => {
  it("finds nothing in a clean schema", () => {
    expect(schemaProblems(clean())).toEqual([]);
  });

  it.each<[string, (s: Schema) => void, string]>([
    [
      "an undocumented resource",
      (s) => {
        delete s.resources["wg-mesh:index:Cluster"].description;
      },
      "wg-mesh:index:Cluster: no description",
    ],
    [
      "an undocumented input",
      (s) => {
        delete s.resources["wg-mesh:index:Cluster"].inputProperties.pools.description;
      },
      "wg-mesh:index:Cluster input.pools: no description",
    ],
    [
      "an undocumented nested field",
      (s) => {
        delete s.types["wg-mesh:index:Pool"].properties!.name.description;
      },
      "wg-mesh:index:Pool.name: no description",
    ],
    [
      "a garbled description",
      (s) => {
        s.types["wg-mesh:index:Pool"].properties!.name.description = "See [object Object]";
      },
      "wg-mesh:index:Pool.name: description garbled",
    ],
    [
      "a dangling type reference",
      (s) => {
        delete s.types["wg-mesh:index:Pool"];
      },
      "wg-mesh:index:Cluster input.pools[]: #/types/wg-mesh:index:Pool is not in the schema's types",
    ],
    [
      "an Any",
      (s) => {
        s.resources["wg-mesh:index:Cluster"].properties.release = { $ref: "pulumi.json#/Any", description: "x" };
      },
      "output.release: typed Any",
    ],
    [
      "a provider reference",
      (s) => {
        s.resources["wg-mesh:index:Cluster"].properties.release.$ref = "/kubernetes/v4.34.2/schema.json#/resources/kubernetes";
      },
      "is not a resource token",
    ],
    [
      "a stand-in for pulumi.Resource",
      (s) => {
        s.types["wg-mesh:index:Resource"] = { type: "object", properties: { urn: { type: "string", description: "URN." } } };
      },
      "wg-mesh:index:Resource: a Pulumi SDK class",
    ],
  ])("reports %s", (_what, breakIt, message) => {
    const s = clean();
    breakIt(s);
    expect(schemaProblems(s).join("\n")).toContain(message);
  });
});

describe("secretPaths", () => {
  it("lists the outputs marked secret", () => {
    expect(secretPaths(clean())).toEqual(["wg-mesh:index:Cluster.kubeconfig"]);
  });
});
