// A long-running `nft -i` child (a ChildSession) for the guard's small, frequent changes: a node
// joining the table is one element, ~1 ms through a pipe instead of a spawned `nft -f` (the
// spawn is most of its cost). nft's interactive mode runs each input LINE as one transaction, so
// a request - deletes and adds that must apply together or not at all - is written as one line,
// its commands joined with "; ". nft reports a failed command on stderr as "Error: ...", the
// input line and a line of carets under the culprit; the end of a request is marked by a line
// that fails in nft's parser without touching the kernel (a bare word, numbered per request), so
// everything that arrives before that marker's own echo belongs to the request.
//
// The line editor keeps every line in its history (memory that grows per request): the child is
// replaced every RECYCLE_AFTER requests. HOME points nowhere, so no history file is read or
// written (the root filesystem is read-only in the DaemonSet anyway).
import { ChildSession, type ChildCommand, type RequestReader } from "./childSession";

const RECYCLE_AFTER = 500;
const CARETS = /^\s*[\^~]+\s*$/;

export class NftSession extends ChildSession<string[], string> {
  private sequence = 0;
  /** The marker's caret line follows its echo; it may arrive after the request resolved. */
  private skipCaret = false;

  /** `prefix`: what runs nft (e.g. ["ip", "netns", "exec", NS]); empty on the host. */
  constructor(
    private readonly prefix: string[] = [],
    private readonly nftBinary = "nft",
    timeoutMs?: number,
    recycleAfter = RECYCLE_AFTER,
  ) {
    super("nft session", recycleAfter, timeoutMs);
  }

  protected command(): ChildCommand {
    const [file, ...args] = [...this.prefix, this.nftBinary, "-i"];
    return { file, args, env: { ...process.env, HOME: "/nonexistent" } };
  }

  protected stray(line: string): void {
    this.caret(line);
  }

  /** Resolves with nft's error output for the request ("" when it applied). */
  protected begin(commands: string[], fresh: boolean): RequestReader<string> {
    if (fresh) this.skipCaret = false;
    const marker = `node-router-marker-${++this.sequence}`;
    const text = commands.join("; ");
    if (text.includes("\n")) throw new Error("nft session: a request must be one line (one transaction)");
    const said: string[] = [];
    return {
      text: `${text}\n${marker}\n`,
      line: (line) => {
        if (this.caret(line)) return undefined;
        if (line !== marker) {
          said.push(line);
          return undefined;
        }
        // The marker's own "Error: syntax error ..." line came just before its echo.
        said.pop();
        this.skipCaret = true;
        return { done: said.join("\n").trim() };
      },
    };
  }

  /** True (and consumed) if this is the caret line that follows the last marker's echo. */
  private caret(line: string): boolean {
    if (!this.skipCaret) return false;
    this.skipCaret = false;
    return CARETS.test(line);
  }
}
