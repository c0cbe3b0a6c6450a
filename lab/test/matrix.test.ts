// The leak matrix on a real kernel: before the agents, node-originated traffic crosses the
// underlay in the clear; after, every flow works and only control-plane exempt ports are clear.
import { Lab } from "../src/lab";
import { formatMatrix, runMatrix, type MatrixReport } from "../src/matrix";
import { requireLabEnvironment } from "./harness";

const cells = (r: MatrixReport, cls: string) => r.results.filter((x) => x.cls === cls);

describe.each([
  ["0xe00 (Cilium 1.18+)", 0xe00],
  ["0x1e00 (Cilium 1.17 and older)", 0x1e00],
])("leak matrix, WireGuard mark %s", (_label, mark) => {
  let lab: Lab | undefined;
  let before: MatrixReport;
  let after: MatrixReport;

  beforeAll(async () => {
    requireLabEnvironment();
    lab = await Lab.create({ nodes: 3, wgMark: mark });
    before = await runMatrix(lab);
    await lab.startAgents();
    after = await runMatrix(lab);
    console.log(`${formatMatrix(`before the agents (mark 0x${mark.toString(16)})`, before)}\n\n${formatMatrix("after the agents", after)}`);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  }, 30_000);

  test("before: node->remote node and node->remote pod leak for every ordered pair; pod->pod is encrypted", () => {
    for (const cls of ["node->remote-node", "node->remote-pod"]) {
      const rows = cells(before, cls);
      expect(rows).toHaveLength(6);
      for (const r of rows) expect({ flow: `${cls} ${r.from}->${r.to}`, leaked: r.cleartext > 0 }).toEqual({ flow: `${cls} ${r.from}->${r.to}`, leaked: true });
    }
    expect(cells(before, "pod->remote-pod").map((r) => r.cleartext)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(before.leakedPackets).toBeGreaterThan(0);
  });

  test("after: every flow succeeds and nothing but exempt control-plane ports is in the clear", () => {
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
