// The leak matrix on a real kernel. Without a node table (mark 0xe00 here): before the agents,
// node-originated traffic crosses the underlay in the clear. As the program builds clusters
// (node table, guard applied at boot; mark 0x1e00 here): before the agents the same flows fail
// closed (the guard drops them) and nothing leaks. After the agents, in both, every flow works
// and only control-plane exempt ports are clear.
import { Lab } from "../src/lab";
import { formatMatrix, runMatrix, type MatrixReport } from "../src/matrix";
import { requireLabEnvironment } from "./harness";

/** The matrix's cells of one flow class; never none (a check over no cells would prove nothing). */
const cells = (r: MatrixReport, cls: string) => {
  const found = r.results.filter((x) => x.cls === cls);
  expect({ cls, cells: found.length > 0 }).toEqual({ cls, cells: true });
  return found;
};

describe.each([
  ["0xe00 (Cilium 1.18+), no node table", 0xe00, false],
  ["0x1e00 (Cilium 1.17 and older), node table and boot guard", 0x1e00, true],
])("leak matrix, WireGuard mark %s", (_label, mark, nodeTable) => {
  let lab: Lab | undefined;
  let before: MatrixReport;
  let after: MatrixReport;

  beforeAll(async () => {
    requireLabEnvironment();
    lab = await Lab.create({ nodes: 3, wgMark: mark, nodeTable });
    before = await runMatrix(lab);
    await lab.startAgents();
    after = await runMatrix(lab);
    console.log(`${formatMatrix(`before the agents (mark 0x${mark.toString(16)})`, before)}\n\n${formatMatrix("after the agents", after)}`);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  }, 30_000);

  test(
    nodeTable
      ? "before, boot guard only: every node-originated flow outside the exemption fails closed, nothing leaks; exempt and pod->pod flows work"
      : "before, no table: node->remote node and node->remote pod leak for every ordered pair; pod->pod is encrypted",
    () => {
      expect(cells(before, "pod->remote-pod").map((r) => [r.ok, r.cleartext])).toEqual(Array(6).fill([true, 0]));
      if (!nodeTable) {
        for (const cls of ["node->remote-node", "node->remote-pod"]) {
          const rows = cells(before, cls);
          expect(rows).toHaveLength(6);
          for (const r of rows)
            expect({ flow: `${cls} ${r.from}->${r.to}`, leaked: r.cleartext > 0 }).toEqual({ flow: `${cls} ${r.from}->${r.to}`, leaked: true });
        }
        expect(before.leakedPackets).toBeGreaterThan(0);
        return;
      }
      for (const cls of ["node->remote-node", "node->remote-pod", "pod->remote-node", "cp->worker:10250", "worker->worker:6443"]) {
        const rows = cells(before, cls);
        for (const r of rows)
          expect({ flow: `${cls} ${r.from}->${r.to}`, ok: r.ok, cleartext: r.cleartext }).toEqual({
            flow: `${cls} ${r.from}->${r.to}`,
            ok: false,
            cleartext: 0,
          });
      }
      for (const cls of ["worker->cp:6443", "worker->cp:2379"]) for (const r of cells(before, cls)) expect(r).toMatchObject({ ok: true, exempt: true });
      expect(before.leakedPackets).toBe(0);
      expect(before.other.leaked).toBe(0);
    },
  );

  test("after: every flow succeeds and nothing but exempt control-plane ports is in the clear", () => {
    expect(after.results.length).toBeGreaterThan(0);
    expect(after.results.map((r) => `${r.cls} ${r.from}->${r.to}`)).toEqual(before.results.map((r) => `${r.cls} ${r.from}->${r.to}`));
    expect(after.results.filter((r) => !r.ok)).toEqual([]);
    expect(after.results.filter((r) => !r.exempt && r.cleartext > 0)).toEqual([]);
    expect(after.leakedPackets).toBe(0);
    expect(after.other.leaked).toBe(0);
    expect(after.captureDrops).toBe(0);
  });

  test("after: the bootstrap exemption is real - worker->control plane 6443 and 2379 cross in the clear", () => {
    for (const cls of ["worker->cp:6443", "worker->cp:2379"]) {
      for (const r of cells(after, cls)) expect({ cls, exempt: r.exempt, clear: r.cleartext > 0 }).toEqual({ cls, exempt: true, clear: true });
    }
    // A worker listening on 6443 is not a control plane: encrypted.
    for (const r of cells(after, "worker->worker:6443")) expect(r).toMatchObject({ ok: true, exempt: false, cleartext: 0 });
  });
});
