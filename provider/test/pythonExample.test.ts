// The checker the protocol test runs on the README's Python program, on a small schema: each
// kind of mistake it must catch, one change at a time from a program that passes.
import { checkAgainstSchema, pythonBlocks, pythonUsage } from "./pythonExample";
import { pyName } from "./pythonNames";

const schema = {
  name: "wg-mesh",
  resources: {
    "wg-mesh:index:Cluster": {
      inputProperties: { podCidr: { type: "string" }, pools: { type: "array", items: { $ref: "#/types/wg-mesh:index:ClusterPool" } } },
      requiredInputs: ["pools"],
      properties: { kubeconfig: { type: "string" } },
    },
  },
  types: {
    "wg-mesh:index:ClusterPool": { properties: { name: { type: "string" }, role: { $ref: "#/types/wg-mesh:index:NodeRole" } }, required: ["name"] },
    "wg-mesh:index:NodeRole": { enum: [{ name: "ControlPlane" }, { name: "Worker" }] },
  },
};

const good = `import pulumi
import pulumi_wg_mesh as wg_mesh

cluster = wg_mesh.Cluster("mesh", pod_cidr="10.244.0.0/16", pools=[
    wg_mesh.ClusterPoolArgs(name="cp", role=wg_mesh.NodeRole.CONTROL_PLANE),
    {"name": "workers"},
])
pulumi.export("kubeconfig", cluster.kubeconfig)
`;

const problems = (program: string) => checkAgainstSchema(pythonUsage(program, "wg-mesh"), schema);

describe("the Python example checker", () => {
  it("accepts a program that matches the schema", () => {
    expect(problems(good)).toEqual([]);
  });

  it.each([
    ["an unknown argument", good.replace("pod_cidr=", "podCidr="), /line 4: Cluster: no argument podCidr/],
    ["a missing required input", good.replace(/pools=\[[\s\S]*?\]\)/, ")"), /required pools missing/],
    ["an unknown nested field", good.replace('name="cp"', 'nmae="cp"'), /no argument nmae/],
    ["a missing nested required field", good.replace('{"name": "workers"}', "{}"), /pools\[1\]: required name missing/],
    ["an unknown enum member", good.replace("CONTROL_PLANE", "CONTROLPLANE"), /NodeRole has no member CONTROLPLANE/],
    ["an unknown output", good.replace("cluster.kubeconfig", "cluster.kube_config"), /Cluster has no output kube_config/],
    ["a type that does not exist", good.replace("ClusterPoolArgs", "PoolArgs"), /PoolArgs/],
    ["no import of the package", good.replace("import pulumi_wg_mesh as wg_mesh", "import wg_mesh"), /does not import pulumi_wg_mesh/],
  ])("reports %s", (_what, program, message) => {
    expect(problems(program).join("\n")).toMatch(message);
  });

  it("fails on a syntax error (python3 compiles the program)", () => {
    expect(() => problems(good.replace('"mesh",', '"mesh",,'))).toThrow(/SyntaxError/);
  });

  it("finds the python blocks of a README", () => {
    expect(pythonBlocks(`text\n\`\`\`python\nx = 1\n\`\`\`\n\`\`\`bash\nls\n\`\`\`\n`)).toEqual(["x = 1\n"]);
  });

  it("names properties as Pulumi's Python generator does", () => {
    expect(["podCidr", "caCertPem", "apiURLHost", "SHA256Hash", "kubeconfig"].map(pyName)).toEqual([
      "pod_cidr",
      "ca_cert_pem",
      "api_url_host",
      "sha256_hash",
      "kubeconfig",
    ]);
  });
});
