// The names Pulumi's Python SDK generator gives schema names (pkg/codegen/python: PyName for
// properties, the package's module name, `<Type>Args` input classes, UPPER_SNAKE enum members),
// so a Python program can be checked against the schema the package serves.

/** camelCase -> snake_case as pkg/codegen/python.PyName does it (acronyms kept together: fooURLBar -> foo_url_bar). */
export function pyName(name: string): string {
  const parts: string[] = [];
  let current = "";
  let state: "first" | "upper" | "acronym" | "lower" = "first";
  const isUpper = (c: string) => c !== c.toLowerCase() && c === c.toUpperCase();
  const isDigit = (c: string) => c >= "0" && c <= "9";
  for (const raw of name) {
    const c = /[A-Za-z0-9_]/.test(raw) ? raw : "_";
    switch (state) {
      case "first":
        if (isDigit(c)) current += "_";
        state = isUpper(c) ? "upper" : "lower";
        current += c.toLowerCase();
        break;
      case "upper":
        state = isUpper(c) ? "acronym" : "lower";
        current += c.toLowerCase();
        break;
      case "acronym":
        if (isUpper(c)) {
          current += c.toLowerCase();
          break;
        }
        if (isDigit(c)) {
          state = "lower";
          current += c;
          break;
        }
        // fooURLBar: the last capital starts the next word.
        parts.push(current.slice(0, -1));
        current = current.slice(-1) + c;
        state = "lower";
        break;
      case "lower":
        if (isUpper(c)) {
          parts.push(current);
          current = c.toLowerCase();
          state = "upper";
          break;
        }
        current += c;
        break;
    }
  }
  parts.push(current);
  return parts.filter((p) => p !== "").join("_");
}

/** Python distribution/module of a package: `pulumi_<name>` with dashes as underscores. */
export const pythonModule = (packageName: string) => `pulumi_${packageName.replace(/-/g, "_")}`;

/** Enum member name in the Python SDK: UPPER_SNAKE of the schema member's name. */
export const pyEnumMember = (name: string) => pyName(name).toUpperCase();
