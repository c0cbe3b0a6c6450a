// What the protocol test asserts about a package schema as a whole: documented everywhere, every
// reference resolvable, nothing the analyzer made up (`Any`, a `Resource {urn}` type standing in
// for a pulumi.Resource, a provider reference it cannot express), and where the secrets are.

export interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
  secret?: boolean;
}
export interface Schema {
  name: string;
  version: string;
  resources: Record<
    string,
    {
      isComponent?: boolean;
      description?: string;
      inputProperties: Record<string, Property>;
      requiredInputs: string[];
      properties: Record<string, Property>;
      required: string[];
    }
  >;
  types: Record<string, { type: string; properties?: Record<string, Property>; enum?: { name: string; value: unknown }[] }>;
}

/** Names the analyzer gives the base classes of the Pulumi SDK when an Arg is typed with them. */
const SDK_CLASSES = new Set(["Resource", "CustomResource", "ComponentResource", "ProviderResource"]);

export function schemaProblems(schema: Schema): string[] {
  const problems: string[] = [];
  const checkRef = (where: string, p: Property) => {
    if (p.$ref === "pulumi.json#/Any") problems.push(`${where}: typed Any`);
    else if (p.$ref?.startsWith("#/types/") && !schema.types[p.$ref.slice("#/types/".length)])
      problems.push(`${where}: ${p.$ref} is not in the schema's types`);
    else if (p.$ref?.startsWith("/") && !/^\/[^/]+\/v[^/]+\/schema\.json#\/resources\/[^:]+:[^:]+:[^:]+$/.test(p.$ref))
      problems.push(`${where}: ${p.$ref} is not a resource token`);
    if (p.items) checkRef(`${where}[]`, p.items);
    if (p.additionalProperties) checkRef(`${where}{}`, p.additionalProperties);
  };
  const checkProperties = (where: string, props: Record<string, Property> | undefined) => {
    for (const [name, p] of Object.entries(props ?? {})) {
      if (!p.description?.trim()) problems.push(`${where}.${name}: no description`);
      else if (p.description.includes("[object Object]")) problems.push(`${where}.${name}: description garbled (a {@link} in its doc comment)`);
      checkRef(`${where}.${name}`, p);
    }
  };
  for (const [token, r] of Object.entries(schema.resources)) {
    if (!r.description?.trim()) problems.push(`${token}: no description`);
    checkProperties(`${token} input`, r.inputProperties);
    checkProperties(`${token} output`, r.properties);
  }
  for (const [token, t] of Object.entries(schema.types)) {
    if (SDK_CLASSES.has(token.split(":")[2])) problems.push(`${token}: a Pulumi SDK class in the Args or outputs`);
    checkProperties(token, t.properties);
  }
  return problems;
}

/** `<resource token>.<output>` for every output marked secret. */
export function secretPaths(schema: Schema): string[] {
  return Object.entries(schema.resources).flatMap(([token, r]) =>
    Object.entries(r.properties)
      .filter(([, p]) => p.secret)
      .map(([name]) => `${token}.${name}`),
  );
}
