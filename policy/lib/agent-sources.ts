// Where a node-router container gets its settings from, read from its pod spec:
//   - flags in command/args (`--exempt-ports=LIST`, `--exempt-ports LIST`), also inside an
//     `sh -c` script, where `export VAR=...`, `VAR=... cmd` and `. FILE` set environment too,
//     the script's arguments come after it (`"$@"`), and `$ARGS` / `$(cat FILE)` can hold flags;
//   - env: a literal value, `valueFrom` a ConfigMap/Secret key, or `envFrom` a whole ConfigMap/Secret;
//   - Kubernetes' `$(VAR)` references in command/args and env, and the shell's `$VAR` and
//     `$(cat FILE)`, resolved against the container's env and mounted volumes.
// Values that live in a ConfigMap/Secret or a mounted file are `Indirect`: the stack policy
// node-router-indirect-settings looks them up in the stack. Values the shell computes at run
// time (`$(hostname)`, a downward-API field) can never be seen.
import { settingOfEnv, settingOfFlag, type AgentSetting } from "./agent-settings";
import { commands, fileRead, shellScript, variableOnly, type Word } from "./shell";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { asArray, at } from "./values";

export type Indirect =
  | { from: "configMapKey" | "secretKey"; name: string; key: string }
  /** A whole ConfigMap/Secret (envFrom); names the container's `env` sets itself win over it. */
  | { from: "configMap" | "secret"; name: string; prefix: string; envNames: string[] }
  | { from: "file"; path: string; envFile: boolean; container: unknown }
  | { from: "runtime"; what: string };

export interface Occurrence {
  /** Undefined for a whole ConfigMap/Secret/env file, whose keys decide the settings. */
  setting: AgentSetting | undefined;
  via: "flag" | "env";
  name: string;
  field: string;
  value: string | Unknown | Indirect;
  /** Container path, e.g. spec.template.spec.containers[0]. */
  container: string;
  /** The value is a whole argument list (`exec agent $(cat FILE)`): its flags are the settings. */
  asArgs?: boolean;
}

export const isIndirect = (v: Occurrence["value"]): v is Indirect => typeof v === "object";

type EnvValue = string | Unknown | Indirect;

function envOf(c: unknown, indexOf?: Map<string, number>): Map<string, EnvValue> {
  const out = new Map<string, EnvValue>();
  const env = asArray(at(c, "env"));
  if (isUnknown(env)) return out;
  env.forEach((e, i) => {
    if (typeof at(e, "name") === "string") indexOf?.set(at(e, "name") as string, i);
  });
  for (const e of env) {
    const name = at(e, "name");
    if (typeof name !== "string") continue;
    const v = at(e, "value");
    const cm = at(e, "valueFrom.configMapKeyRef");
    const sec = at(e, "valueFrom.secretKeyRef");
    if (isUnknown(v)) out.set(name, UNKNOWN);
    else if (typeof v === "string") out.set(name, expandK8s(v, out));
    else if (cm !== undefined) out.set(name, { from: "configMapKey", name: String(at(cm, "name")), key: String(at(cm, "key")) });
    else if (sec !== undefined) out.set(name, { from: "secretKey", name: String(at(sec, "name")), key: String(at(sec, "key")) });
    else if (at(e, "valueFrom") !== undefined)
      out.set(name, { from: "runtime", what: `env ${name} (valueFrom ${Object.keys((at(e, "valueFrom") as object) ?? {}).join(", ")})` });
    else out.set(name, "");
  }
  return out;
}

/** Kubernetes `$(VAR)` expansion (`$$` escapes): a lone reference keeps an indirect value. */
function expandK8s(text: string, env: Map<string, EnvValue>): EnvValue {
  const lone = /^\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)$/.exec(text);
  if (lone && env.has(lone[1])) return env.get(lone[1])!;
  let stuck: EnvValue | undefined;
  const out = text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    const v = env.get(name!);
    if (v === undefined) return m; // undefined references stay as written
    if (typeof v === "string") return v;
    stuck = isUnknown(v) ? UNKNOWN : { from: "runtime", what: `'${text}' (built from ${name})` };
    return m;
  });
  return stuck ?? out;
}

/** Flags among words (`--x=v`, `--x v`); `resolve` turns a value word into a value. */
function flags<T>(
  words: T[],
  text: (w: T) => unknown,
  resolve: (w: T, inline?: string) => EnvValue,
  at: (i: number) => string,
  container: string,
): Occurrence[] {
  const out: Occurrence[] = [];
  words.forEach((w, i) => {
    const t = text(w);
    if (isUnknown(t)) {
      out.push({ setting: undefined, via: "flag", name: "?", field: at(i), value: UNKNOWN, container });
      return;
    }
    if (typeof t !== "string" || !t.startsWith("--")) return;
    const eq = t.indexOf("=");
    const flag = t.slice(2, eq < 0 ? undefined : eq);
    const setting = settingOfFlag(flag);
    if (!setting) return;
    if (eq >= 0) out.push({ setting, via: "flag", name: `--${flag}`, field: at(i), value: resolve(w, t.slice(eq + 1)), container });
    else if (i + 1 < words.length)
      out.push({
        setting,
        via: "flag",
        name: `--${flag}`,
        field: at(i + 1),
        value: isUnknown(text(words[i + 1])) ? UNKNOWN : resolve(words[i + 1]),
        container,
      });
    else out.push({ setting, via: "flag", name: `--${flag}`, field: at(i), value: "", container });
  });
  return out;
}

function fromScript(script: string, field: string, env: Map<string, EnvValue>, c: unknown, container: string): Occurrence[] {
  const vars = new Map(env);
  const value = (w: Word, inline?: string): EnvValue => {
    const text = inline ?? w.text;
    if (!w.expands || !/[$`]/.test(text)) return text;
    const v = variableOnly(text);
    if (v !== undefined) return vars.get(v) ?? "";
    const file = fileRead(text);
    if (file !== undefined) return { from: "file", path: file, envFile: false, container: c };
    return { from: "runtime", what: `'${text}' in the script at ${field}` };
  };
  const out: Occurrence[] = [];
  for (const words of commands(script)) {
    let i = 0;
    if (words[0]?.text === "export") i = 1;
    for (; i < words.length; i++) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[i].text);
      if (!m) break;
      const v = value(words[i], m[2]);
      vars.set(m[1], v);
      const setting = settingOfEnv(m[1]);
      if (setting) out.push({ setting, via: "env", name: m[1], field: `${field} (${m[1]}=)`, value: v, container });
    }
    const rest = words.slice(i);
    if ((rest[0]?.text === "." || rest[0]?.text === "source") && rest[1]) {
      out.push({
        setting: undefined,
        via: "env",
        name: rest[1].text,
        field: `${field} (${rest[0].text} ${rest[1].text})`,
        value: { from: "file", path: rest[1].text, envFile: true, container: c },
        container,
      });
    }
    out.push(
      ...flags(
        rest,
        (w) => w.text,
        value,
        () => `${field} (script)`,
        container,
      ),
    );
    // A bare expansion can carry whole flags: `exec node-router $(cat /etc/agent/args)` or `$ARGS`.
    for (const w of rest) {
      if (!w.expands || w.text.startsWith("-")) continue;
      const name = variableOnly(w.text);
      const file = fileRead(w.text);
      const v: EnvValue | undefined =
        file !== undefined ? { from: "file", path: file, envFile: false, container: c } : name !== undefined ? vars.get(name) : undefined;
      if (typeof v === "string") out.push(...argsOf(v, `${field} (${w.text})`, container));
      else if (v !== undefined) out.push({ setting: undefined, via: "flag", name: w.text, field: `${field} (${w.text})`, value: v, container, asArgs: true });
    }
  }
  return out;
}

/** Flags in a text that the shell splits into words. */
export function argsOf(text: string, field: string, container: string): Occurrence[] {
  const words = text.split(/\s+/).filter(Boolean);
  return flags(
    words,
    (w) => w,
    (w, inline) => inline ?? w,
    () => field,
    container,
  );
}

/** Every place a container of this pod spec sets an agent setting. */
export function settingOccurrences(podSpec: unknown, base = "spec.template.spec"): Occurrence[] {
  const out: Occurrence[] = [];
  for (const list of ["initContainers", "containers"]) {
    const cs = asArray(at(podSpec, list));
    if (isUnknown(cs)) {
      out.push({ setting: undefined, via: "flag", name: "?", field: `${base}.${list}`, value: UNKNOWN, container: `${base}.${list}` });
      continue;
    }
    cs.forEach((c, ci) => {
      const container = `${base}.${list}[${ci}]`;
      const index = new Map<string, number>();
      const env = envOf(c, index);
      const envList = asArray(at(c, "env"));
      if (isUnknown(envList)) out.push({ setting: undefined, via: "env", name: "?", field: `${container}.env`, value: UNKNOWN, container });
      for (const [name, v] of env) {
        const setting = settingOfEnv(name);
        if (setting) out.push({ setting, via: "env", name, field: `${container}.env[${index.get(name)}] (${name})`, value: v, container });
      }
      const from = asArray(at(c, "envFrom"));
      if (isUnknown(from)) out.push({ setting: undefined, via: "env", name: "?", field: `${container}.envFrom`, value: UNKNOWN, container });
      else
        from.forEach((f, fi) => {
          const prefix = typeof at(f, "prefix") === "string" ? (at(f, "prefix") as string) : "";
          const cm = at(f, "configMapRef.name");
          const sec = at(f, "secretRef.name");
          const field = `${container}.envFrom[${fi}]`;
          if (isUnknown(cm) || isUnknown(sec)) out.push({ setting: undefined, via: "env", name: "?", field, value: UNKNOWN, container });
          else if (typeof cm === "string")
            out.push({
              setting: undefined,
              via: "env",
              name: cm,
              field,
              value: { from: "configMap", name: cm, prefix, envNames: [...index.keys()] },
              container,
            });
          else if (typeof sec === "string")
            out.push({
              setting: undefined,
              via: "env",
              name: sec,
              field,
              value: { from: "secret", name: sec, prefix, envNames: [...index.keys()] },
              container,
            });
        });
      const command = asArray(at(c, "command"));
      const args = asArray(at(c, "args"));
      if (isUnknown(command) || isUnknown(args)) {
        out.push({ setting: undefined, via: "flag", name: "?", field: `${container}.${isUnknown(command) ? "command" : "args"}`, value: UNKNOWN, container });
        return;
      }
      const argv = [...command.map((x, i) => ({ x, f: `${container}.command[${i}]` })), ...args.map((x, i) => ({ x, f: `${container}.args[${i}]` }))];
      const sh = shellScript(argv.map((a) => a.x));
      if (sh) {
        // Kubernetes expands $(VAR) in the script text before the shell runs it.
        const script = expandK8s(sh.script, env);
        if (typeof script === "string") out.push(...fromScript(script, argv[sh.index].f, env, c, container));
        else
          out.push({
            setting: undefined,
            via: "flag",
            name: "?",
            field: argv[sh.index].f,
            value: isUnknown(script)
              ? UNKNOWN
              : { from: "runtime", what: `the script at ${argv[sh.index].f}, which Kubernetes completes from the environment` },
            container,
          });
        // Words after the script are its $0, $1, ...: `exec node-router "$@"` passes them on as flags.
        const positional = argv.slice(sh.index + 2);
        out.push(
          ...flags(
            positional,
            (a) => a.x,
            (a, inline) => expandK8s(inline ?? (typeof a.x === "string" ? a.x : ""), env),
            (i) => positional[i].f,
            container,
          ),
        );
        return;
      }
      out.push(
        ...flags(
          argv,
          (a) => a.x,
          (a, inline) => expandK8s(inline ?? (typeof a.x === "string" ? a.x : ""), env),
          (i) => argv[i].f,
          container,
        ),
      );
    });
  }
  return shadowed(out);
}

/** A flag wins over the environment: drop env occurrences of a setting a known flag sets. */
export function shadowed(occ: Occurrence[]): Occurrence[] {
  const flagged = new Set(occ.filter((o) => o.via === "flag" && o.setting && typeof o.value === "string").map((o) => `${o.container}|${o.setting}`));
  return occ.filter((o) => !(o.via === "env" && o.setting && o.setting !== "exemptPorts" && flagged.has(`${o.container}|${o.setting}`)));
}
