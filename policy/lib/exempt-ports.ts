// Reads the ports a node-router container exempts from WireGuard routing: `--exempt-ports=LIST`
// (or `--exempt-ports LIST`) in command/args, and the EXEMPT_PORTS / NODE_ROUTER_EXEMPT_PORTS
// environment variables.
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, at } from "./values";

export interface ExemptSetting {
  /** Field path for messages, e.g. spec.template.spec.containers[0].args[1]. */
  field: string;
  value: string | Unknown;
  /** Set when the value lives outside the stack (env valueFrom), so it can never be verified here. */
  indirect?: boolean;
}

const EXEMPT_ENV = /^([A-Z0-9]+_)*EXEMPT_PORTS$/;

export function exemptSettings(podSpec: unknown): ExemptSetting[] {
  const out: ExemptSetting[] = [];
  const base = "spec.template.spec.containers";
  const containers = asArray(at(podSpec, "containers"));
  if (isUnknown(containers)) return [{ field: base, value: containers }];
  containers.forEach((c, ci) => {
    for (const key of ["command", "args"]) {
      const list = asArray(at(c, key));
      if (isUnknown(list)) { out.push({ field: `${base}[${ci}].${key}`, value: list }); continue; }
      list.forEach((arg, ai) => {
        const field = `${base}[${ci}].${key}[${ai}]`;
        if (isUnknown(arg)) { out.push({ field, value: arg }); return; }
        if (typeof arg !== "string") return;
        if (arg.startsWith("--exempt-ports=")) out.push({ field, value: arg.slice("--exempt-ports=".length) });
        else if (arg === "--exempt-ports") {
          const next = list[ai + 1];
          out.push({ field: `${base}[${ci}].${key}[${ai + 1}]`, value: isUnknown(next) ? next : String(next ?? "") });
        }
      });
    }
    const env = asArray(at(c, "env"));
    if (isUnknown(env)) { out.push({ field: `${base}[${ci}].env`, value: env }); return; }
    env.forEach((e, ei) => {
      const name = at(e, "name");
      // EXEMPT_PORTS, or with the agent's prefix (NODE_ROUTER_EXEMPT_PORTS).
      if (typeof name !== "string" || !EXEMPT_ENV.test(name)) return;
      const field = `${base}[${ci}].env[${ei}] (${name})`;
      const value = at(e, "value");
      if (isUnknown(value)) out.push({ field, value });
      else if (typeof value === "string") out.push({ field, value });
      // valueFrom (ConfigMap/Secret): the value is not in the stack at all.
      else if (at(e, "valueFrom") !== undefined) out.push({ field: `${field}.valueFrom`, value: UNKNOWN, indirect: true });
    });
  });
  return out;
}
