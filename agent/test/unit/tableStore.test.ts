// The start table's sources in precedence order, and the host copy: real files in a temporary
// directory, a real crash (SIGKILL of a child process between the write and the rename).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseNodeTable } from "../../src/nodeTable";
import { atomicWrite, firstValidTable, loadStartTable, parseDeparted, parseLocal, readPreviousNodes, TableStore } from "../../src/tableStore";

const doc = (...workers: string[]) =>
  JSON.stringify({
    podCidrs: ["10.244.0.0/16"],
    nodes: [
      { name: "local", role: "control-plane", addresses: ["203.0.113.1"] },
      ...workers.map((w, i) => ({ name: w, role: "worker", addresses: [`203.0.113.${10 + i}`] })),
    ],
  });

describe("firstValidTable (pure)", () => {
  it("takes the first valid candidate, and says why each one before it was not used", () => {
    const r = firstValidTable(
      [
        { source: "config-map", path: "/cm", text: JSON.stringify({ podCidrs: ["10.244.0.0/16"], nodes: [] }) },
        { source: "persisted", path: "/p", readError: "cannot read /p: ENOENT" },
        { source: "boot", path: "/b", text: doc("w1") },
      ],
      "local",
    );
    expect([r.source, r.path, r.table?.nodes.map((n) => n.name)]).toEqual(["boot", "/b", ["local", "w1"]]);
    expect(r.refused.map((x) => `${x.source}: ${x.message}`)).toEqual([
      expect.stringMatching(/^config-map: nodes: the list is empty/),
      "persisted: cannot read /p: ENOENT",
    ]);
  });

  it("refuses a table without this node; none valid: no table, every reason", () => {
    const r = firstValidTable(
      [
        { source: "config-map", path: "/cm", text: doc("w1") },
        { source: "boot", path: "/b", text: "{" },
      ],
      "w9",
    );
    expect(r.table).toBeUndefined();
    expect(r.refused.map((x) => x.message)).toEqual([expect.stringMatching(/this node "w9" is not listed/), expect.stringMatching(/not JSON/)]);
  });
});

describe("files on the host", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "nr-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loadStartTable: ConfigMap file > persisted copy > boot table, each only when valid", async () => {
    const cm = join(dir, "cm.json");
    const state = join(dir, "state");
    const boot = join(dir, "boot.json");
    const paths = { configMap: cm, stateDir: state, bootTable: boot, localNodeName: "local" };
    expect(await loadStartTable(paths)).toEqual({
      refused: ["config-map", "persisted", "boot"].map((source) =>
        expect.objectContaining({ source, message: expect.stringMatching(/^cannot read .*ENOENT/) }),
      ),
    });
    writeFileSync(boot, doc("boot"));
    expect((await loadStartTable(paths)).source).toBe("boot");
    const errors: string[] = [];
    const store = new TableStore(state, (m) => errors.push(m));
    await store.saveGuarded({ table: parseNodeTable(doc("persisted")), departed: [], guardScript: "# g\n" });
    expect(errors).toEqual([expect.stringMatching(/^cannot persist the node table state in .*state: .*ENOENT/)]);
    mkdirSync(state);
    await store.saveGuarded({ table: parseNodeTable(doc("persisted")), departed: [], guardScript: "# g\n" });
    const persisted = await loadStartTable(paths);
    expect([persisted.source, persisted.table?.nodes.at(-1)?.name]).toEqual(["persisted", "persisted"]);
    writeFileSync(cm, doc("configmap"));
    const fromCm = await loadStartTable(paths);
    expect([fromCm.source, fromCm.table?.nodes.at(-1)?.name]).toEqual(["config-map", "configmap"]);
    // A refused ConfigMap table falls back to the persisted copy, not to nothing.
    writeFileSync(cm, JSON.stringify({ podCidrs: ["0.0.0.0/0"], nodes: [] }));
    const refused = await loadStartTable(paths);
    expect([refused.source, refused.refused[0].message]).toEqual(["persisted", expect.stringMatching(/0.0.0.0\/0 is the default route/)]);
    expect(await loadStartTable({ ...paths, stateDir: undefined, configMap: undefined })).toMatchObject({ source: "boot", refused: [] });
  });

  it("readPreviousNodes: the persisted table and the nodes it held, else the boot table's", async () => {
    const boot = join(dir, "boot.json");
    writeFileSync(boot, doc("b1"));
    expect((await readPreviousNodes({ stateDir: dir, bootTable: boot })).map((n) => n.name)).toEqual(["local", "b1"]);
    await new TableStore(dir, () => undefined).saveGuarded({
      table: parseNodeTable(doc("p1")),
      departed: [{ name: "gone", role: "worker", addresses: ["203.0.113.99"] }],
      guardScript: "",
    });
    expect((await readPreviousNodes({ stateDir: dir, bootTable: boot })).map((n) => n.name)).toEqual(["local", "p1", "gone"]);
    expect(await readPreviousNodes({})).toEqual([]);
  });

  it("saveGuarded writes the table, its guard and the held nodes; local.json round-trips", async () => {
    const errors: string[] = [];
    const store = new TableStore(dir, (m) => errors.push(m));
    const table = parseNodeTable(doc("w1"));
    await store.saveGuarded({
      table,
      departed: [{ name: "gone", role: "worker", addresses: ["203.0.113.99"] }],
      guardScript: "table inet node_router_guard {}\n",
    });
    expect(parseNodeTable(readFileSync(store.paths.table, "utf8"))).toEqual(table);
    expect(readFileSync(store.paths.guard, "utf8")).toBe("table inet node_router_guard {}\n");
    expect(await store.readDeparted()).toEqual([{ name: "gone", role: "worker", addresses: ["203.0.113.99"] }]);
    expect(await store.readLocalPodCidrs()).toEqual([]);
    await store.saveLocalPodCidrs(["10.244.1.0/24"]);
    expect(await store.readLocalPodCidrs()).toEqual(["10.244.1.0/24"]);
    expect(readdirSync(dir).sort()).toEqual(["departed.json", "guard.nft", "local.json", "node-table.json"]);
    expect(errors).toEqual([]);
  });

  it("saveGuardedLatest makes the snapshot when it writes, and saves asked for meanwhile coalesce into the newest", async () => {
    const store = new TableStore(dir, () => undefined);
    const made: string[] = [];
    const snapshot = (name: string) => () => {
      made.push(name);
      return { table: parseNodeTable(doc(name)), departed: [], guardScript: `# guard for ${name}\n` };
    };
    const first = store.saveGuardedLatest(snapshot("w1"));
    expect(made).toEqual([]); // not in the caller's step
    void store.saveGuardedLatest(snapshot("w2"));
    void store.saveGuardedLatest(snapshot("w3"));
    await first;
    await store.flush();
    expect(made).toEqual(["w3"]);
    expect(readFileSync(store.paths.guard, "utf8")).toBe("# guard for w3\n");
    expect(parseNodeTable(readFileSync(store.paths.table, "utf8")).nodes.map((n) => n.name)).toContain("w3");
    // One asked for after the write is a write of its own.
    await store.saveGuardedLatest(snapshot("w5"));
    expect(made).toEqual(["w3", "w5"]);
    expect(readFileSync(store.paths.guard, "utf8")).toBe("# guard for w5\n");
  });

  it("saveGuarded writes the proxy's configuration when given, and only when it changed", async () => {
    const store = new TableStore(dir, () => undefined);
    const table = parseNodeTable(doc("w1"));
    await store.saveGuarded({ table, departed: [], guardScript: "", proxyConfig: "cfg 1\n" });
    expect(readFileSync(store.paths.proxy, "utf8")).toBe("cfg 1\n");
    const before = statSync(store.paths.proxy).ino; // atomicWrite renames a new file: a new inode
    await store.saveGuarded({ table, departed: [], guardScript: "", proxyConfig: "cfg 1\n" });
    expect(statSync(store.paths.proxy).ino).toBe(before);
    await store.saveGuarded({ table, departed: [], guardScript: "" }); // no control plane: left as it is
    expect(readFileSync(store.paths.proxy, "utf8")).toBe("cfg 1\n");
    await store.saveGuarded({ table, departed: [], guardScript: "", proxyConfig: "cfg 2\n" });
    expect(readFileSync(store.paths.proxy, "utf8")).toBe("cfg 2\n");
  });

  it("writes are serialised: the last one asked for is what stays", async () => {
    const store = new TableStore(dir, () => undefined);
    const writes = ["a", "b", "c", "d"].map((w) => store.saveGuarded({ table: parseNodeTable(doc(w)), departed: [], guardScript: `# ${w}\n` }));
    await Promise.all(writes);
    expect(readFileSync(store.paths.guard, "utf8")).toBe("# d\n");
    expect(parseNodeTable(readFileSync(store.paths.table, "utf8")).nodes.at(-1)?.name).toBe("d");
  });

  it("atomicWrite: a crash between the write and the rename leaves the old file whole; the next write succeeds", async () => {
    const target = join(dir, "guard.nft");
    await atomicWrite(target, "old ruleset\n");
    // A child process writes 4 MB with the real atomicWrite and is killed (SIGKILL) before the rename.
    const swc = require.resolve("@swc/core");
    const source = resolve(__dirname, "../../src/tableStore.ts");
    const child = spawnSync(
      process.execPath,
      [
        "-e",
        `
      const fs = require("node:fs");
      const swc = require(${JSON.stringify(swc)});
      require.extensions[".ts"] = (m, filename) => m._compile(swc.transformSync(fs.readFileSync(filename, "utf8"), { filename, jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }).code, filename);
      const { atomicWrite } = require(${JSON.stringify(source)});
      atomicWrite(${JSON.stringify(target)}, "new ruleset\\n".repeat(350000), { beforeRename: async () => process.kill(process.pid, "SIGKILL") });
    `,
      ],
      { encoding: "utf8" },
    );
    expect([child.signal, child.stderr]).toEqual(["SIGKILL", ""]);
    expect(readFileSync(target, "utf8")).toBe("old ruleset\n");
    const leftovers = readdirSync(dir).filter((f) => f.endsWith(".tmp"));
    expect(leftovers).toHaveLength(1); // the torn write is beside it, never in its place
    expect(readFileSync(join(dir, leftovers[0]), "utf8").length).toBe(12 * 350000);
    await atomicWrite(target, "newer ruleset\n");
    expect(readFileSync(target, "utf8")).toBe("newer ruleset\n");
  });

  it("atomicWrite: a failed write leaves the old file and no temporary file", async () => {
    const target = join(dir, "node-table.json");
    await atomicWrite(target, "old\n");
    await expect(
      atomicWrite(target, "new\n", {
        beforeRename: async () => {
          throw new Error("disk full");
        },
      }),
    ).rejects.toThrow("disk full");
    expect(readFileSync(target, "utf8")).toBe("old\n");
    expect(readdirSync(dir)).toEqual(["node-table.json"]);
  });
});

describe("the small state files", () => {
  it("departed.json: canonical addresses, malformed entries skipped", () => {
    expect(
      parseDeparted(
        JSON.stringify({
          nodes: [
            { name: "a", role: "worker", addresses: ["2001:DB8::1", "x"] },
            { name: "b", role: "boss", addresses: ["1.2.3.4"] },
            { name: "c", role: "worker", addresses: [] },
          ],
        }),
      ),
    ).toEqual([{ name: "a", role: "worker", addresses: ["2001:db8::1"] }]);
    expect(parseDeparted("garbage")).toEqual([]);
  });
  it("local.json: canonical pod CIDRs, malformed ones skipped", () => {
    expect(parseLocal(JSON.stringify({ podCidrs: ["10.244.1.0/24", "10.244.1.1/24", "2001:DB8::/64"] }))).toEqual(["10.244.1.0/24", "2001:db8::/64"]);
    expect(parseLocal("")).toEqual([]);
  });
});
