import { markSecretOutputs } from "./secrets";

const schema = JSON.stringify({
  name: "wg-mesh",
  resources: { "wg-mesh:index:Cluster": { properties: { kubeconfig: { type: "string" }, apiEndpoint: { type: "string" } } } },
});

describe("markSecretOutputs", () => {
  it("marks exactly the listed outputs", () => {
    const out = JSON.parse(markSecretOutputs(schema, { Cluster: ["kubeconfig"] }));
    expect(out.resources["wg-mesh:index:Cluster"].properties).toEqual({ kubeconfig: { type: "string", secret: true }, apiEndpoint: { type: "string" } });
  });

  it("refuses an output the component does not have (a rename cannot drop a marking)", () => {
    expect(() => markSecretOutputs(schema, { Cluster: ["kubeConfig"] })).toThrow("secret output Cluster.kubeConfig is not an output of wg-mesh:index:Cluster");
  });

  it("refuses a component the schema does not have", () => {
    expect(() => markSecretOutputs(schema, { Clutser: ["kubeconfig"] })).toThrow("the schema has no resource wg-mesh:index:Clutser");
  });
});
