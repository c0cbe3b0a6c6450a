// What the node-router container runs. The agent image's entrypoint is
// `node --optimize-for-size dist/agent/src/main.js` with CMD ["run"] (agent/Dockerfile); main.js
// takes its sub-command from its first argument (`run` when it is absent or a flag). Anything
// else does something other than steering traffic: `uninstall` removes every rule, route and
// the boot guard; `guard`/`help`/`--help` run once and exit; a shell (`sh -c '...; sleep inf'`) or
// another program hides what runs from the pack and from the agent's own checks. So the
// container must run exactly the agent's `run`:
//   - command: absent (the image's entrypoint), or `node [node options] <path>/main.js [args]`;
//   - the first argument after main.js (from command, then args; args alone when command is
//     absent): absent, a flag, or `run`; no `--help`/`-h`;
//   - no lifecycle hook that runs `uninstall`.
// Kubernetes `$(VAR)` references to the container's literal env are expanded first.
import { isUnknown, type UnknownNotes } from "./unknowns";
import { asArray, at } from "./values";

const NODE = /^(\/usr\/(local\/)?bin\/)?node(js)?$/;
const SHELLS = /(^|\/)(sh|bash|ash|dash|zsh|ksh|busybox|env|tini|dumb-init|su|sudo|nsenter|chroot|timeout|nohup|xargs)$/;
const SUBCOMMANDS_THAT_STOP = new Set(["uninstall", "guard", "help"]);

function literalEnv(c: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const env = asArray(at(c, "env"));
  if (isUnknown(env)) return out;
  for (const e of env) {
    const name = at(e, "name");
    const value = at(e, "value");
    if (typeof name === "string" && typeof value === "string") out.set(name, value);
  }
  return out;
}

/** Kubernetes `$(VAR)` expansion against literal env; undefined when a reference cannot be resolved. */
function expand(word: string, env: Map<string, string>): string | undefined {
  let stuck = false;
  const out = word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    const v = env.get(name!);
    if (v === undefined) {
      stuck = true;
      return m;
    }
    return v;
  });
  return stuck ? undefined : out;
}

/** Problems with what one container runs; unknown words go to `notes`. `partial`: a patch that may set neither. */
export function judgeCommand(c: unknown, field: string, who: string, report: (m: string) => void, notes: UnknownNotes, partial = false): void {
  const command = at(c, "command");
  const args = at(c, "args");
  if (partial && command === undefined && args === undefined) return;
  if (isUnknown(command) || isUnknown(args)) {
    notes.add(`${field}.${isUnknown(command) ? "command" : "args"} of ${who}`);
    return;
  }
  const env = literalEnv(c);
  const words: Array<{ text: string | undefined; field: string; unknown: boolean }> = [];
  const push = (list: unknown, key: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((w, i) => {
      const f = `${field}.${key}[${i}]`;
      if (isUnknown(w)) words.push({ text: undefined, field: f, unknown: true });
      else words.push({ text: typeof w === "string" ? expand(w, env) : String(w), field: f, unknown: false });
    });
  };
  push(command, "command");
  const fromCommand = words.length;
  push(args, "args");
  let argv = words;
  if (fromCommand > 0) {
    const prog = words[0];
    if (prog.unknown || prog.text === undefined) {
      notes.add(`${prog.field} of ${who}`);
      return;
    }
    const base = prog.text.trim();
    if (!NODE.test(base)) {
      const why = SHELLS.test(base.split(/\s+/)[0])
        ? `runs the agent through '${base}' (a shell or wrapper), which hides what actually runs`
        : `runs '${base}' instead of the agent's entrypoint`;
      report(`${who}: ${prog.field} ${why}; remove command (the image runs node main.js run) or set it to ["node", "dist/agent/src/main.js"] with flags only.`);
      return;
    }
    let i = 1;
    while (i < fromCommand && !words[i].unknown && (words[i].text ?? "").startsWith("-")) i++;
    const script = words[i];
    if (i >= fromCommand || script === undefined) {
      report(`${who}: ${field}.command runs node without the agent's main.js; remove command so the image runs the agent.`);
      return;
    }
    if (script.unknown || script.text === undefined) {
      notes.add(`${script.field} of ${who}`);
      return;
    }
    if (!/(^|\/)main\.js$/.test(script.text)) {
      report(`${who}: ${script.field} runs '${script.text}' instead of the agent's main.js; remove command so the image runs the agent.`);
      return;
    }
    argv = words.slice(i + 1);
  }
  const first = argv[0];
  if (first !== undefined) {
    if (first.unknown || first.text === undefined) {
      notes.add(`${first.field} of ${who}`);
      return;
    }
    if (!first.text.startsWith("-") && first.text !== "run") {
      const what =
        first.text === "uninstall"
          ? "'uninstall', which removes every rule, route and the boot guard the agent installs and exits"
          : SUBCOMMANDS_THAT_STOP.has(first.text)
            ? `'${first.text}', which runs once and exits`
            : `'${first.text}', which is not the agent's run command`;
      report(
        `${who}: ${first.field} makes the agent run ${what}, so no node's traffic is steered into WireGuard; use 'run' (or no sub-command) with flags only.`,
      );
      return;
    }
  }
  for (const w of argv) {
    if (w.text === "--help" || w.text === "-h") report(`${who}: ${w.field} '${w.text}' makes the agent print its usage and exit; remove it.`);
  }
  for (const hook of ["postStart", "preStop"]) {
    const exec = at(c, `lifecycle.${hook}.exec.command`);
    if (isUnknown(exec)) {
      notes.add(`${field}.lifecycle.${hook} of ${who}`);
      continue;
    }
    if (Array.isArray(exec) && exec.some((w) => typeof w === "string" && /(^|\s)uninstall(\s|$)/.test(w))) {
      report(
        `${who}: ${field}.lifecycle.${hook}.exec.command runs the agent's 'uninstall', which removes every rule, route and the boot guard; remove the hook.`,
      );
    }
  }
}

/** The containers that run the agent: named like it or running its image; all of them when none is. */
export function agentContainers(spec: unknown, name: string): Array<{ c: unknown; index: number }> {
  const list = asArray(at(spec, "containers"));
  if (isUnknown(list)) return [];
  const all = list.map((c, index) => ({ c, index }));
  const mine = all.filter(({ c }) => at(c, "name") === name || (typeof at(c, "image") === "string" && (at(c, "image") as string).includes(name)));
  return mine.length > 0 ? mine : all;
}
