// The node table as kubelet delivers a ConfigMap mounted as a directory: each version is
// written into a fresh timestamped directory, then the `..data` symlink is swapped atomically
// (rename), and `node-table.json` points at `..data/node-table.json`. The agent watches the
// directory, so this exercises exactly the update path it meets in a cluster.
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nodeTableFor, type NodePlan } from "./plan";

export const TABLE_FILE_NAME = "node-table.json";

export class TableDir {
  private version = 0;
  readonly file: string;

  /** `nodes`: what the program has declared (the lab's nodes, plus joined, minus left). */
  constructor(
    readonly dir: string,
    public nodes: NodePlan[],
    private readonly withPrivate = false,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, TABLE_FILE_NAME);
  }

  /** Publishes the table for `nodes` (what a `pulumi up` does). */
  publish(): void {
    this.write(nodeTableFor(this.nodes, this.withPrivate));
  }

  /** Publishes a new version of the document (any text, so tests can publish broken ones). */
  write(content: unknown): void {
    const text = typeof content === "string" ? content : JSON.stringify(content, null, 2);
    const version = `..${Date.now()}_${this.version++}`;
    mkdirSync(join(this.dir, version));
    writeFileSync(join(this.dir, version, TABLE_FILE_NAME), text);
    let previous: string | undefined;
    try {
      previous = readlinkSync(join(this.dir, "..data"));
    } catch {
      previous = undefined;
    }
    symlinkSync(version, join(this.dir, "..data_tmp"));
    renameSync(join(this.dir, "..data_tmp"), join(this.dir, "..data"));
    if (previous === undefined) symlinkSync(join("..data", TABLE_FILE_NAME), this.file);
    else rmSync(join(this.dir, previous), { recursive: true, force: true });
  }
}
