// Just enough POSIX shell to read settings out of a container's `sh -c` script: words (quotes and
// backslashes honoured), command separators, and which words hold expansions. It never runs
// anything; a word whose value the shell computes at run time is marked, not guessed.

export interface Word {
  /** The word with quotes removed; expansions are kept as written ($X, ${X}, $(...), `...`). */
  text: string;
  /** True when the word contains an expansion the shell performs at run time. */
  expands: boolean;
}

/** Splits a script into simple commands (lists of words) at ; & | && || and newlines. */
export function commands(script: string): Word[][] {
  const out: Word[][] = [];
  let cmd: Word[] = [];
  let word = "";
  let expands = false;
  let inWord = false;
  const endWord = () => {
    if (inWord) cmd.push({ text: word, expands });
    word = "";
    expands = false;
    inWord = false;
  };
  const endCmd = () => {
    endWord();
    if (cmd.length > 0) out.push(cmd);
    cmd = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (c === "\\" && i + 1 < script.length) {
      if (script[i + 1] !== "\n") {
        word += script[i + 1];
        inWord = true;
      }
      i++;
      continue;
    }
    if (c === "'") {
      const j = script.indexOf("'", i + 1);
      const end = j < 0 ? script.length : j;
      word += script.slice(i + 1, end);
      inWord = true;
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === "\\" && j + 1 < script.length) {
          word += script[++j];
          continue;
        }
        if (script[j] === "$" || script[j] === "`") expands = true;
        word += script[j];
      }
      inWord = true;
      i = j;
      continue;
    }
    if (c === "$" && script[i + 1] === "(") {
      // Keep $( ... ) whole, nesting included, as one expansion.
      let depth = 0;
      let j = i + 1;
      for (; j < script.length; j++) {
        if (script[j] === "(") depth++;
        else if (script[j] === ")" && --depth === 0) break;
      }
      word += script.slice(i, j + 1);
      expands = true;
      inWord = true;
      i = j;
      continue;
    }
    if (c === "$" || c === "`") {
      expands = true;
      word += c;
      inWord = true;
      continue;
    }
    if (c === "#" && !inWord) {
      const j = script.indexOf("\n", i);
      i = j < 0 ? script.length : j - 1;
      continue;
    }
    if (c === ";" || c === "\n" || c === "&" || c === "|") {
      endCmd();
      continue;
    }
    if (c === " " || c === "\t") {
      endWord();
      continue;
    }
    word += c;
    inWord = true;
  }
  endCmd();
  return out;
}

const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"]);

/** The script of `sh -c SCRIPT ...` (any shell, flags like -ec), or undefined for other argv. */
export function shellScript(argv: readonly unknown[]): { script: string; index: number } | undefined {
  const first = argv[0];
  if (typeof first !== "string" || !SHELLS.has(first.split("/").pop() ?? "")) return undefined;
  let i = 1;
  if ((first.split("/").pop() ?? "") === "busybox" && argv[1] === "sh") i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== "string" || !a.startsWith("-")) return undefined;
    if (/^-[a-z]*c[a-z]*$/.test(a)) {
      const script = argv[i + 1];
      return typeof script === "string" ? { script, index: i + 1 } : undefined;
    }
  }
  return undefined;
}

/** A `$NAME`, `${NAME}` or `"$NAME"` word: the variable it reads, if it is nothing else. */
export function variableOnly(text: string): string | undefined {
  return /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(text)?.[1];
}

/** `$(cat FILE)` or `$(< FILE)`: the file it reads, if it is nothing else. */
export function fileRead(text: string): string | undefined {
  return /^\$\(\s*(?:cat\s+|<\s*)(["']?)([^\s"'()]+)\1\s*\)$/.exec(text)?.[2];
}
