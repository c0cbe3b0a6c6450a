// One long-running `ip -force -batch -` child per address family (a ChildSession), so a small
// change (a node joining) costs a pipe write instead of a process spawn. ip reports a failed
// line on stderr as "<message>\nCommand failed -:<line>", so the end of a request is detected by
// appending a line that always fails without touching the kernel (an unknown object name): when
// its own "Command failed" arrives, every earlier line has been processed.
//
// iproute2 6.1 keeps ~4 KB per route command in batch mode and never frees it, so the child is
// replaced after RECYCLE_AFTER_LINES; large applies use one-shot processes instead (kernel.ts).
import { ChildSession, type ChildCommand, type RequestReader } from "./childSession";
import { BatchErrorReader } from "./iproute2";

/** Not an ip object: fails in ip's own argument parser, before any netlink request. */
export const MARKER = "node-router-marker";
const RECYCLE_AFTER_LINES = 20_000;

export class IpBatchWorker extends ChildSession<string[], Map<number, string>> {
  /** Lines this child has read: ip numbers the lines of its stdin from its start. */
  private linesSent = 0;
  private errors = new BatchErrorReader();

  constructor(
    private readonly args: string[],
    private readonly ipBinary = "ip",
  ) {
    super("ip batch child", RECYCLE_AFTER_LINES);
  }

  protected command(): ChildCommand {
    return { file: this.ipBinary, args: [...this.args, "-force", "-batch", "-"] };
  }

  protected cost(lines: string[]): number {
    return lines.length + 1;
  }

  /** Resolves with the failed lines (0-based index -> ip's message). */
  protected begin(lines: string[], fresh: boolean): RequestReader<Map<number, string>> {
    if (fresh) {
      this.linesSent = 0;
      this.errors = new BatchErrorReader();
    }
    const firstLine = this.linesSent + 1;
    this.linesSent += lines.length + 1;
    const markerLine = this.linesSent;
    const failed = new Map<number, string>();
    return {
      text: lines.length > 0 ? `${lines.join("\n")}\n${MARKER}\n` : `${MARKER}\n`,
      line: (line) => {
        const f = this.errors.read(line);
        if (!f) return undefined;
        if (f.lineNo === markerLine) return { done: failed };
        if (f.lineNo >= firstLine) failed.set(f.lineNo - firstLine, f.message);
        return undefined;
      },
    };
  }
}
