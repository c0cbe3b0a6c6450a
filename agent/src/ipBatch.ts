// One long-running `ip -force -batch -` child per address family, fed through its stdin, so a
// small change (a node joining) costs a pipe write instead of a process spawn (~2-4 ms, more
// with a large heap because of fork). ip reports a failed line on stderr as
// "<message>\nCommand failed -:<line>" and stderr is unbuffered, so the end of a request is
// detected by appending a line that always fails without touching the kernel (an unknown
// object name): when its own "Command failed" arrives, every earlier line has been processed.
//
// iproute2 6.1 keeps ~4 KB per route command in batch mode and never frees it, so the child is
// replaced after RECYCLE_AFTER_LINES; large applies use one-shot processes instead (kernel.ts).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { BatchErrorReader } from "./iproute2";

/** Not an ip object: fails in ip's own argument parser, before any netlink request. */
export const MARKER = "node-router-marker";
const RECYCLE_AFTER_LINES = 20_000;

interface Request {
  firstLine: number;
  markerLine: number;
  errors: Map<number, string>;
  resolve(errors: Map<number, string>): void;
  reject(e: Error): void;
}

export class IpBatchWorker {
  private child?: ChildProcessWithoutNullStreams;
  private linesSent = 0;
  private stderrTail = "";
  private errors = new BatchErrorReader();
  private current?: Request;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly args: string[], private readonly ipBinary = "ip") {}

  /**
   * Runs the lines in order; resolves with the failed ones (0-based index -> ip's message).
   * Calls are serialised. Rejects only if the child dies or cannot start (the caller re-reads).
   */
  run(lines: string[]): Promise<Map<number, string>> {
    const next = this.queue.then(() => this.send(lines));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the child (tests, benchmark); a later run() starts a new one. */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private send(lines: string[]): Promise<Map<number, string>> {
    if (this.child && this.linesSent >= RECYCLE_AFTER_LINES) this.close();
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const firstLine = this.linesSent + 1;
      this.linesSent += lines.length + 1;
      this.current = { firstLine, markerLine: this.linesSent, errors: new Map(), resolve, reject };
      this.setRef(child, true);
      child.stdin.write(lines.length > 0 ? `${lines.join("\n")}\n${MARKER}\n` : `${MARKER}\n`);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(this.ipBinary, [...this.args, "-force", "-batch", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.linesSent = 0;
    this.stderrTail = "";
    this.errors = new BatchErrorReader();
    child.stdout.resume(); // route and rule commands print nothing; never let a pipe fill up
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => this.onStderr(child, chunk));
    const fail = (why: string) => {
      if (this.child === child) this.child = undefined;
      const r = this.current;
      this.current = undefined;
      r?.reject(new Error(`ip batch child ${why}`));
    };
    child.on("error", (e) => fail(`failed: ${e.message}`));
    child.on("close", (code, signal) => fail(`exited (${signal ?? code})`));
    child.stdin.on("error", () => undefined); // EPIPE when the child died: reported by "close"
    this.setRef(child, false);
    return child;
  }

  private onStderr(child: ChildProcessWithoutNullStreams, chunk: string): void {
    const text = this.stderrTail + chunk;
    const lines = text.split("\n");
    this.stderrTail = lines.pop() ?? "";
    for (const line of lines) {
      const failed = this.errors.read(line);
      if (!failed) continue;
      const { lineNo, message } = failed;
      const r = this.current;
      if (!r) continue;
      if (lineNo === r.markerLine) {
        this.current = undefined;
        this.setRef(child, false);
        r.resolve(r.errors);
      } else if (lineNo >= r.firstLine) {
        r.errors.set(lineNo - r.firstLine, message);
      }
    }
  }

  // An idle child must not keep the process alive; a busy one must (the caller awaits it).
  private setRef(child: ChildProcessWithoutNullStreams, busy: boolean): void {
    for (const h of [child, child.stdin, child.stdout, child.stderr] as { ref(): void; unref(): void }[]) {
      if (busy) h.ref();
      else h.unref();
    }
  }
}
