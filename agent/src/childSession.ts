// A long-running command-line child fed requests through its stdin, one at a time, so a small
// kernel change costs a pipe write instead of a process spawn (a spawn forks the agent: 1-7 ms
// with a 100 MB heap, on a busy node more). Shared by the `ip -batch` children (ipBatch.ts) and
// the `nft -i` child (nftSession.ts); each knows how its tool reports errors and how to mark the
// end of a request on stderr, which is unbuffered, so that every earlier line has been answered
// when the marker's own error arrives.
//
// What the children have in common, and this class owns: requests are serialised; a child that
// dies, cannot start or does not answer within `timeoutMs` fails the request in flight (which
// lines ran is then unknown: the caller re-reads the kernel) and the next request starts a new
// child; a child is replaced after `recycleAfter` units of work (iproute2 and nft's line editor
// keep memory per command and never free it); an idle child never keeps the agent alive.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface ChildCommand {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** How one request is written and how its answer is read, line by line, from stderr. */
export interface RequestReader<Res> {
  /** The text to write, ending with the marker line. */
  text: string;
  /** Reads one stderr line; returns the answer once the marker's own line arrived. */
  line(line: string): { done: Res } | undefined;
}

interface InFlight<Res> {
  /** The child the request was written to: only its failure fails the request. */
  child: ChildProcessWithoutNullStreams;
  reader: RequestReader<Res>;
  resolve(r: Res): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

export abstract class ChildSession<Req, Res> {
  private child?: ChildProcessWithoutNullStreams;
  private work = 0;
  private stderrTail = "";
  private current?: InFlight<Res>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly recycleAfter: number,
    private readonly timeoutMs = 30_000,
  ) {}

  /** The child to start (called for every new child). */
  protected abstract command(): ChildCommand;
  /** Starts a request on the current child; `fresh` when the child was just started. */
  protected abstract begin(request: Req, fresh: boolean): RequestReader<Res>;
  /** Units of work a request adds (lines for ip), compared with `recycleAfter`. */
  protected cost(request: Req): number {
    void request;
    return 1;
  }
  /** Stderr lines that arrive outside a request (e.g. the tail of the last marker). */
  protected stray(line: string): void {
    void line;
  }

  /** Runs a request after those before it; rejects only if the child dies, cannot start or hangs. */
  run(request: Req): Promise<Res> {
    const next = this.queue.then(() => this.send(request));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The running child's process id (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the child (tests, benchmark, recycling); a later run() starts a new one. */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private send(request: Req): Promise<Res> {
    if (this.child && this.work >= this.recycleAfter) this.close();
    const fresh = !this.child;
    const child = this.child ?? this.start();
    this.work += this.cost(request);
    return new Promise((resolve, reject) => {
      const reader = this.begin(request, fresh);
      const inFlight: InFlight<Res> = { child, reader, resolve, reject };
      inFlight.timer = setTimeout(() => {
        this.fail(child, `gave no answer within ${this.timeoutMs} ms`);
        child.kill("SIGKILL");
      }, this.timeoutMs);
      this.current = inFlight;
      this.setRef(child, true);
      child.stdin.write(reader.text);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const { file, args, env } = this.command();
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env });
    this.child = child;
    this.work = 0;
    this.stderrTail = "";
    child.stdout.resume(); // nothing is read from stdout; never let its pipe fill up
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => this.onStderr(child, chunk));
    child.on("error", (e) => this.fail(child, `failed: ${e.message}`));
    child.on("close", (code, signal) => this.fail(child, `exited (${signal ?? code})`));
    child.stdin.on("error", () => undefined); // EPIPE when the child died: reported by "close"
    this.setRef(child, false);
    return child;
  }

  private fail(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child === child) this.child = undefined;
    // A replaced child (recycled, closed) exits while its successor may already be busy.
    const r = this.current;
    if (r?.child !== child) return;
    this.current = undefined;
    clearTimeout(r.timer);
    r.reject(new Error(`${this.name} ${why}`));
  }

  private onStderr(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (child !== this.child) return; // a replaced child's last words
    const lines = (this.stderrTail + chunk).split("\n");
    this.stderrTail = lines.pop() ?? "";
    for (const line of lines) {
      const r = this.current;
      if (!r) {
        this.stray(line);
        continue;
      }
      const answer = r.reader.line(line);
      if (!answer) continue;
      this.current = undefined;
      clearTimeout(r.timer);
      this.setRef(child, false);
      r.resolve(answer.done);
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
