// The components' Args and outputs as the component provider host that `@pulumi/pulumi` ships
// reads them for other Pulumi languages: its own analyzer, run on an entry point that exports
// Cluster, Cilium and NodeRouter, must produce a schema (an unsupported type anywhere rejects the
// whole package) in which every input, output and nested field is documented.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";

const COMPONENTS = { Cluster: "components/cluster/cluster", Cilium: "components/cilium/cilium", NodeRouter: "components/nodeRouter/nodeRouter" };

interface Property {
  type?: string;
  $ref?: string;
  description?: string;
  plain?: boolean;
}
interface Schema {
  resources: Record<
    string,
    { description?: string; inputProperties: Record<string, Property>; requiredInputs: string[]; properties: Record<string, Property> }
  >;
  types: Record<string, { properties?: Record<string, Property>; enum?: { value: string }[] }>;
}

let schema: Schema;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "wg-mesh-schema-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "wg-mesh", version: "0.0.0", main: "index.ts" }));
    writeFileSync(
      join(dir, "index.ts"),
      Object.entries(COMPONENTS)
        .map(([name, file]) => `export { ${name} } from "${relative(dir, join(__dirname, "..", file))}";\n`)
        .join(""),
    );
    // The host finds each component by its class's name.
    const classes = Object.keys(COMPONENTS).map((name) =>
      Object.defineProperty(
        function () {
          /* stand-in */
        },
        "name",
        { value: name },
      ),
    );
    schema = JSON.parse(await new ComponentProvider({ dirname: dir, name: "wg-mesh", components: classes as never }).getSchema()) as Schema;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it("accepts the three components, with their Args as plain, typed inputs", () => {
  expect(Object.keys(schema.resources).sort()).toEqual(["wg-mesh:index:Cilium", "wg-mesh:index:Cluster", "wg-mesh:index:NodeRouter"]);
  const cluster = schema.resources["wg-mesh:index:Cluster"];
  expect(cluster.requiredInputs.sort()).toEqual([
    "adminCertValidityHours",
    "containerdVersion",
    "joinTokenTtlHours",
    "kubernetesVersion",
    "nodeRouter",
    "nodes",
    "podCidr",
    "serviceCidr",
  ]);
  expect(cluster.inputProperties.nodeRouter.$ref).toBe("#/types/wg-mesh:index:NodeRouterAgent");
  expect(schema.resources["wg-mesh:index:NodeRouter"].inputProperties.settings.$ref).toBe("#/types/wg-mesh:index:AgentSettings");
  expect(schema.types["wg-mesh:index:NodeRole"].enum?.map((e) => e.value)).toEqual(["control-plane", "worker"]);
  expect(cluster.inputProperties.wireguardFrom.$ref).toBe("#/types/wg-mesh:index:WireguardFrom");
  expect(schema.types["wg-mesh:index:WireguardFrom"].enum?.map((e) => e.value)).toEqual(["nodes", "anywhere"]);
});

it("takes no provider, resource or ordering in any Args: they come through resource options", () => {
  for (const [token, r] of Object.entries(schema.resources)) {
    expect([token, Object.keys(r.inputProperties).filter((k) => /provider|dependsOn|admission/i.test(k))]).toEqual([token, []]);
    expect([token, Object.values(r.inputProperties).filter((p) => p.$ref?.includes("schema.json")).length]).toEqual([token, 0]);
  }
});

it("documents every resource, input, output and nested field", () => {
  const missing: string[] = [];
  for (const [token, r] of Object.entries(schema.resources)) {
    if (!r.description) missing.push(token);
    for (const [k, p] of [...Object.entries(r.inputProperties), ...Object.entries(r.properties)]) if (!p.description) missing.push(`${token}.${k}`);
  }
  for (const [token, t] of Object.entries(schema.types))
    for (const [k, p] of Object.entries(t.properties ?? {})) if (!p.description) missing.push(`${token}.${k}`);
  expect(Object.keys(schema.types).length).toBeGreaterThan(8);
  expect(missing).toEqual([]);
});
