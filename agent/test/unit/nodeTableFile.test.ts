// The node table file at run time: read at start, re-read when kubelet swaps the ConfigMap's
// `..data` symlink (the directory is watched), a bad version logged and the last good one kept.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseNodeTable, type NodeTable } from "../../src/nodeTable";
import { NodeTableFile, readInto } from "../../src/nodeTableFile";

const table = (workers: number) => ({
  podCidrs: ["10.244.0.0/16"],
  nodes: [
    { name: "cp", role: "control-plane", addresses: ["203.0.113.10"] },
    ...Array.from({ length: workers }, (_, i) => ({ name: `w${i}`, role: "worker", addresses: [`203.0.113.${20 + i}`] })),
  ],
});

/** Publishes like kubelet: new directory, then an atomic swap of ..data. */
function publish(dir: string, version: number, text: string): void {
  mkdirSync(join(dir, `..v${version}`));
  writeFileSync(join(dir, `..v${version}`, "node-table.json"), text);
  symlinkSync(`..v${version}`, join(dir, "..tmp"));
  renameSync(join(dir, "..tmp"), join(dir, "..data"));
}

const until = async (what: string, pred: () => boolean) => {
  for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
};

describe("NodeTableFile", () => {
  let dir: string;
  let file: NodeTableFile | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "nr-table-"));
  });
  afterEach(() => {
    file?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads at start, follows symlink swaps, keeps the last good table when a bad one arrives", async () => {
    publish(dir, 1, JSON.stringify(table(1)));
    symlinkSync(join("..data", "node-table.json"), join(dir, "node-table.json"));
    const changes: NodeTable[] = [];
    const errors: string[] = [];
    file = new NodeTableFile({ path: join(dir, "node-table.json"), rereadMs: 60_000, onChange: (t) => changes.push(t), onError: (m) => errors.push(m) });
    await file.start();
    expect(file.current()?.nodes.map((n) => n.name)).toEqual(["cp", "w0"]);

    publish(dir, 2, JSON.stringify(table(2)));
    await until("the second version", () => changes.length === 2);
    expect(file.current()?.nodes.map((n) => n.name)).toEqual(["cp", "w0", "w1"]);
    // Unchanged entries are the same objects as before (the reconciler's caches key on them).
    expect(changes[1].nodes[0]).toBe(changes[0].nodes[0]);
    expect(changes[1].nodes[1]).toBe(changes[0].nodes[1]);
    expect(changes[1].podCidrs).toBe(changes[0].podCidrs);

    publish(dir, 3, JSON.stringify({ ...table(3), nodez: [] }));
    await until("the error", () => errors.length === 1);
    expect(errors[0]).toContain('unknown key "nodez"');
    expect(errors[0]).toContain("keeping the last good table (3 nodes)");
    expect(file.current()?.nodes).toHaveLength(3);
    expect(changes).toHaveLength(2);

    publish(dir, 4, JSON.stringify(table(3)));
    await until("the fixed version", () => changes.length === 3);
    expect(file.current()?.nodes).toHaveLength(4);
  });

  it("without a readable table at start: no table, and the error says nothing will change", async () => {
    const errors: string[] = [];
    file = new NodeTableFile({ path: join(dir, "node-table.json"), rereadMs: 60_000, onChange: () => undefined, onError: (m) => errors.push(m) });
    await file.start();
    expect(file.current()).toBeUndefined();
    expect(errors).toEqual([expect.stringMatching(/cannot read the node table .*; no table yet: changing nothing until one is read/)]);
  });

  it("starts from the start table; a refused file (this node missing, no nodes) keeps it and is reported once", async () => {
    const path = join(dir, "node-table.json");
    const start = parseNodeTable(JSON.stringify(table(2)));
    writeFileSync(path, JSON.stringify({ ...table(0), nodes: [] }));
    const changes: NodeTable[] = [];
    const errors: string[] = [];
    file = new NodeTableFile({
      path,
      localNodeName: "w1",
      initial: { table: start },
      rereadMs: 60_000,
      onChange: (t) => changes.push(t),
      onError: (m) => errors.push(m),
    });
    expect(file.current()).toBe(start);
    await file.start();
    expect(file.current()).toBe(start);
    expect(errors).toEqual([expect.stringMatching(/invalid node table .*: nodes: the list is empty.*; keeping the last good table \(3 nodes\)/)]);
    writeFileSync(path, JSON.stringify(table(1)));
    await file.reload();
    expect(errors[1]).toMatch(/this node "w1" is not listed; .*keeping the last good table \(3 nodes\)/);
    await file.reload();
    expect(errors).toHaveLength(2);
    writeFileSync(path, JSON.stringify(table(3)));
    await file.reload();
    expect(changes.map((t) => t.nodes.length)).toEqual([4]);
    // Entries unchanged since the start table are its objects (the reconciler's caches key on them).
    expect(changes[0].nodes[1]).toBe(start.nodes[1]);
  });

  it("a start table read from this same file is not announced again", async () => {
    const path = join(dir, "node-table.json");
    const text = JSON.stringify(table(1));
    writeFileSync(path, text);
    const changes: NodeTable[] = [];
    file = new NodeTableFile({
      path,
      initial: { table: parseNodeTable(text) },
      rereadMs: 60_000,
      onChange: (t) => changes.push(t),
      onError: () => undefined,
    });
    await file.start();
    expect(changes).toEqual([]);
  });
});

describe("reading the file (readInto)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "nr-read-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the whole file, growing the buffer when it has no room and reusing it when it has", async () => {
    const path = join(dir, "f");
    const big = Buffer.from("x".repeat(300_000) + "end");
    writeFileSync(path, big);
    const first = await readInto(path, Buffer.alloc(0));
    expect(first.bytes.equals(big)).toBe(true);
    expect(first.buffer.length).toBeGreaterThan(big.length);
    // A smaller file, then one of exactly the buffer's size: the same buffer, nothing left over from before.
    writeFileSync(path, "short");
    const second = await readInto(path, first.buffer);
    expect([second.buffer === first.buffer, second.bytes.toString()]).toEqual([true, "short"]);
    const exact = Buffer.alloc(first.buffer.length, "y");
    writeFileSync(path, exact);
    const third = await readInto(path, first.buffer);
    expect(third.bytes.equals(exact)).toBe(true);
    // An empty file is empty bytes; a missing one rejects.
    writeFileSync(path, "");
    expect((await readInto(path, third.buffer)).bytes.length).toBe(0);
    await expect(readInto(join(dir, "missing"), third.buffer)).rejects.toThrow(/ENOENT/);
  });

  it("a table file re-read unchanged keeps the same table object and announces nothing", async () => {
    const path = join(dir, "node-table.json");
    writeFileSync(path, JSON.stringify(table(3)));
    const changes: NodeTable[] = [];
    const file = new NodeTableFile({ path, rereadMs: 60_000, onChange: (t) => changes.push(t), onError: () => undefined });
    await file.reload();
    const first = file.current();
    writeFileSync(path, JSON.stringify(table(3)));
    await file.reload();
    expect([file.current() === first, changes.length]).toEqual([true, 1]);
    writeFileSync(path, JSON.stringify(table(4)));
    await file.reload();
    expect(changes.map((t) => t.nodes.length)).toEqual([4, 5]);
    expect(changes[1].nodes[3]).toBe(changes[0].nodes[3]);
  });
});
