// Secret markings for the package schema. The host's analyzer has no way to say that an
// output is secret (it never emits `secret: true`), so the schema it derives from the
// classes gets them here, by name. A name that is not an output of the component is an
// error, so a rename cannot silently drop a marking; the protocol test checks the list
// against what Construct really returns as secret.

/** Component class name -> names of its outputs that are secret. */
export type SecretOutputs = Readonly<Record<string, readonly string[]>>;

interface SchemaResource {
  properties?: Record<string, { secret?: boolean }>;
}
interface Schema {
  name: string;
  resources: Record<string, SchemaResource>;
}

/** The schema (JSON text, as GetSchema returns it) with `secret: true` on the listed outputs. */
export function markSecretOutputs(schemaJson: string, secrets: SecretOutputs): string {
  const schema = JSON.parse(schemaJson) as Schema;
  for (const [component, outputs] of Object.entries(secrets)) {
    const token = `${schema.name}:index:${component}`;
    const resource = schema.resources[token];
    if (!resource) throw new Error(`secret outputs listed for ${component}, but the schema has no resource ${token}`);
    for (const output of outputs) {
      const property = resource.properties?.[output];
      if (!property) throw new Error(`secret output ${component}.${output} is not an output of ${token}`);
      property.secret = true;
    }
  }
  return JSON.stringify(schema);
}
