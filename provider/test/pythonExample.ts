// Checks a Python program against the package schema the provider serves: the names the
// generated Python SDK would have (pythonNames.ts) for every resource, argument, nested
// input type, enum member and output the program uses, and every required input present.
// python3 parses the program (pythonCalls.py), so a syntax error fails too.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pyEnumMember, pyName, pythonModule } from "./pythonNames";

type Described =
  | { call: string; line: number; args: number; kwargs: Record<string, Described> }
  | { dict: Record<string, Described> }
  | { list: Described[] }
  | { enum: string; member: string }
  | { expr: string };
interface Usage {
  aliases: string[];
  calls: Extract<Described, { call: string }>[];
  reads: { resource: string; attr: string; line: number }[];
}

/** The ```python blocks of a Markdown document. */
export function pythonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** How a program uses the package, as python3's own parser sees it. */
export function pythonUsage(source: string, packageName: string): Usage {
  try {
    const out = execFileSync("python3", [join(__dirname, "pythonCalls.py"), pythonModule(packageName)], {
      input: source,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
    return JSON.parse(out) as Usage;
  } catch (e) {
    throw new Error(`python3 rejected the program:\n${(e as { stderr?: string }).stderr ?? String(e)}`);
  }
}

interface Property {
  $ref?: string;
  type?: string;
  items?: Property;
  additionalProperties?: Property;
}
interface SchemaLike {
  name: string;
  resources: Record<string, { inputProperties?: Record<string, Property>; requiredInputs?: string[]; properties?: Record<string, Property> }>;
  types: Record<string, { properties?: Record<string, Property>; required?: string[]; enum?: { name: string }[] }>;
}

/** Every mismatch between the program and the schema (empty when it would run against the generated SDK). */
export function checkAgainstSchema(usage: Usage, schema: SchemaLike): string[] {
  const problems: string[] = [];
  const token = (name: string) => `${schema.name}:index:${name}`;
  const typeOf = (ref: string | undefined) => (ref?.startsWith("#/types/") ? ref.slice("#/types/".length) : undefined);

  const checkValue = (where: string, value: Described, prop: Property) => {
    const typeToken = typeOf(prop.$ref);
    const type = typeToken ? schema.types[typeToken] : undefined;
    if ("list" in value)
      return value.list.forEach((v, i) =>
        prop.items ? checkValue(`${where}[${i}]`, v, prop.items) : problems.push(`${where}: a list where the schema has ${JSON.stringify(prop)}`),
      );
    if ("enum" in value) {
      if (!type?.enum || typeToken !== token(value.enum))
        return problems.push(`${where}: ${value.enum}.${value.member} where the schema has ${JSON.stringify(prop)}`);
      if (!type.enum.some((m) => pyEnumMember(m.name) === value.member))
        problems.push(`${where}: ${value.enum} has no member ${value.member} (${type.enum.map((m) => pyEnumMember(m.name)).join(", ")})`);
      return;
    }
    if ("call" in value) {
      if (!type?.properties || `${value.call}` !== `${typeToken!.split(":")[2]}Args`)
        return problems.push(`${where}: ${value.call}(...) where the schema has ${JSON.stringify(prop)}`);
      return checkArgs(`${where} (${value.call})`, value.kwargs, type.properties, type.required ?? []);
    }
    if ("dict" in value && type?.properties) return checkArgs(where, value.dict, type.properties, type.required ?? []);
  };

  const checkArgs = (where: string, given: Record<string, Described>, props: Record<string, Property>, required: string[]) => {
    const byPyName = new Map(Object.entries(props).map(([k, p]) => [pyName(k), p]));
    for (const [k, v] of Object.entries(given)) {
      const prop = byPyName.get(k);
      if (!prop) problems.push(`${where}: no argument ${k} (the schema has ${[...byPyName.keys()].join(", ")})`);
      else checkValue(`${where}.${k}`, v, prop);
    }
    for (const r of required) if (!(pyName(r) in given)) problems.push(`${where}: required ${pyName(r)} missing`);
  };

  if (usage.aliases.length === 0) problems.push(`the program does not import ${pythonModule(schema.name)}`);
  for (const call of usage.calls) {
    const resource = schema.resources[token(call.call)];
    if (!resource) continue; // an input type or enum, checked where it is used
    const kwargs = Object.fromEntries(Object.entries(call.kwargs).filter(([k]) => k !== "opts" && k !== "resource_name"));
    if (call.args < 1 && !("resource_name" in call.kwargs)) problems.push(`line ${call.line}: ${call.call} without a resource name`);
    checkArgs(`line ${call.line}: ${call.call}`, kwargs, resource.inputProperties ?? {}, resource.requiredInputs ?? []);
  }
  for (const c of usage.calls.filter((c) => !schema.resources[token(c.call)])) {
    const typeToken = token(c.call.replace(/Args$/, ""));
    if (!c.call.endsWith("Args") || !schema.types[typeToken]) problems.push(`line ${c.line}: ${c.call} is neither a resource nor an input type of the package`);
  }
  for (const read of usage.reads.filter((r) => schema.resources[token(r.resource)])) {
    const outputs = schema.resources[token(read.resource)].properties ?? {};
    if (!Object.keys(outputs).some((o) => pyName(o) === read.attr) && read.attr !== "urn")
      problems.push(`line ${read.line}: ${read.resource} has no output ${read.attr}`);
  }
  return problems;
}
