// The list/watch cache against the lab's API stand-in: pages, watch events, outages, 410 Gone,
// bookmarks, garbage on the stream, backoff. The cache must never claim a list it did not get
// and must keep the last known state while the API is away.
import { DEFAULT_PAGE_SIZE, ListWatch, type ListWatchOptions } from "../../../src/kube/listWatch";
import { KubeTransport } from "../../../src/kube/transport";
import { freePort, sleep, StandIn, until } from "./standIn";

interface Recorder {
  lw: ListWatch;
  listed: number;
  changes: number;
  errors: { message: string; phase: string; retryMs: number }[];
  names(): string[];
}

const open: { lw: ListWatch; t: KubeTransport }[] = [];
function follow(api: StandIn, extra: Partial<ListWatchOptions> = {}, path = "/api/v1/nodes"): Recorder {
  const t = new KubeTransport(api.target);
  const r: Recorder = {
    listed: 0,
    changes: 0,
    errors: [],
    names: () =>
      r.lw
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    lw: undefined as unknown as ListWatch,
  };
  r.lw = new ListWatch(t, {
    path,
    pageSize: 2,
    minBackoffMs: 20,
    maxBackoffMs: 100,
    watchSeconds: 60,
    onChange: () => r.changes++,
    onListed: () => r.listed++,
    onError: (e, phase, retryMs) => r.errors.push({ message: e.message, phase, retryMs }),
    onBadObject: (m) => r.errors.push({ message: m, phase: "object", retryMs: 0 }),
    ...extra,
  });
  open.push({ lw: r.lw, t });
  r.lw.start();
  return r;
}

let api: StandIn;
beforeEach(async () => {
  api = new StandIn();
  for (const n of ["a", "b", "c", "d", "e"]) api.put(n);
});
afterEach(async () => {
  for (const { lw, t } of open.splice(0)) {
    await lw.stop();
    t.close();
  }
  await api.stop();
});

describe("ListWatch", () => {
  it("lists in pages, reports listed once, then follows watch events", async () => {
    await api.start();
    const r = follow(api);
    await until("first list", () => r.listed === 1);
    expect(r.names()).toEqual(["a", "b", "c", "d", "e"]);
    expect(api.requests.filter((u) => u.includes("limit=2")).length).toBe(3); // 2 + 2 + 1
    api.put("f");
    api.store.delete("nodes", "a");
    api.put("b", { spec: { podCIDRs: ["198.18.0.0/24"] } });
    await until("events", () => r.names().join() === "b,c,d,e,f" && r.lw.list().some((o) => o.spec !== undefined));
    expect(r.listed).toBe(1);
    expect(r.errors).toEqual([]);
    expect(api.requests.some((u) => u.includes("watch=true") && u.includes("allowWatchBookmarks=true"))).toBe(true);
  });

  it("lists in pages of DEFAULT_PAGE_SIZE (100) when no page size is given", async () => {
    for (let i = 0; i < 150; i++) api.put(`n${String(i).padStart(3, "0")}`);
    await api.start();
    const r = follow(api, { pageSize: undefined });
    await until("first list", () => r.listed === 1);
    expect(DEFAULT_PAGE_SIZE).toBe(100);
    expect(r.names()).toHaveLength(155);
    const pages = api.requests.filter((u) => !u.includes("watch=true"));
    expect(pages).toHaveLength(2); // 100 + 55
    expect(pages.every((u) => u.includes("limit=100"))).toBe(true);
  });

  it("never reports listed while the API is unreachable, and lists once it comes up", async () => {
    const port = await freePort();
    api.port = port;
    const r = follow(api);
    await sleep(300);
    expect(r.listed).toBe(0);
    expect(r.lw.list()).toEqual([]);
    expect(r.errors.length).toBeGreaterThan(1);
    expect(r.errors.every((e) => e.phase === "list")).toBe(true);
    await api.start(port);
    await until("list after the API came up", () => r.listed === 1);
    expect(r.names()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("keeps the last known state through an outage, then resumes the watch and catches up without a relist", async () => {
    await api.start();
    const r = follow(api);
    await until("first list", () => r.listed === 1);
    const before = r.lw.list();
    await api.stop();
    api.store.delete("nodes", "c");
    api.put("g");
    await sleep(300);
    expect(r.lw.list()).toEqual(before); // same objects, nothing dropped
    expect(r.errors.some((e) => e.phase === "watch")).toBe(true);
    await api.start(api.port);
    await until("changes made during the outage", () => r.names().join() === "a,b,d,e,g");
    expect(api.lists()).toBe(1);
    expect(r.listed).toBe(1);
  });

  it("relists after 410 Gone (history compacted during the outage); unchanged objects keep their identity", async () => {
    await api.start();
    const r = follow(api);
    await until("first list", () => r.listed === 1);
    const b = r.lw.list().find((o) => o.metadata.name === "b");
    await api.stop();
    api.store.delete("nodes", "a");
    api.put("h");
    api.store.compact();
    await api.start(api.port);
    await until("relist", () => r.listed === 2);
    expect(r.names()).toEqual(["b", "c", "d", "e", "h"]);
    expect(r.lw.list().find((o) => o.metadata.name === "b")).toBe(b);
    expect(api.lists()).toBe(2);
  });

  it("bookmarks keep a quiet kind's watch resumable after compaction; without them it must relist", async () => {
    for (const bookmarkMs of [20, 3_600_000]) {
      const quiet = new StandIn(undefined, bookmarkMs);
      quiet.store.put("ciliumnodes", { metadata: { name: "only" } });
      await quiet.start();
      const r = follow(quiet, {}, "/apis/cilium.io/v2/ciliumnodes");
      await until("first list", () => r.listed === 1);
      for (let i = 0; i < 5; i++) quiet.put(`n${i}`); // another kind moves the resourceVersion on
      await sleep(150);
      quiet.store.compact();
      quiet.cut();
      await sleep(300);
      expect({ bookmarkMs, relists: quiet.lists("/apis/cilium.io/v2/ciliumnodes") - 1 }).toEqual({ bookmarkMs, relists: bookmarkMs === 20 ? 0 : 1 });
      expect(r.names()).toEqual(["only"]);
      for (const { lw, t } of open.splice(0)) {
        await lw.stop();
        t.close();
      }
      await quiet.stop();
    }
  });

  it("starts the list over when a continue token has expired (HTTP 410 on a page)", async () => {
    let expire = true;
    api.intercept = (req, res) => {
      if (!expire || !req.url?.includes("continue=")) return false;
      expire = false;
      res
        .writeHead(410, { "content-type": "application/json" })
        .end(JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "continue too old" }));
      return true;
    };
    await api.start();
    const r = follow(api);
    await until("list", () => r.listed === 1);
    expect(r.names()).toEqual(["a", "b", "c", "d", "e"]);
    expect(api.lists()).toBe(2);
  });

  it("an undecodable watch line breaks the watch; it resumes from the last version and loses nothing", async () => {
    let garbage = true;
    api.intercept = (req, res) => {
      if (!garbage || !req.url?.includes("watch=true")) return false;
      garbage = false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"type":"ADDED","object":{"metadata":{"name":"zz"\n');
      return true;
    };
    await api.start();
    const r = follow(api);
    await until("first list", () => r.listed === 1);
    api.put("late");
    await until("event after the garbage", () => r.names().includes("late"));
    expect(r.names()).not.toContain("zz");
    expect(r.errors.some((e) => /undecodable/.test(e.message))).toBe(true);
    expect(api.lists()).toBe(1);
  });

  it("skips objects without a name and reports them", async () => {
    api.intercept = (req, res) => {
      if (req.url?.includes("watch=true")) return false;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ metadata: { resourceVersion: String(api.store.resourceVersion) }, items: [{ metadata: { name: "ok" } }, { metadata: {} }, 42] }));
      return true;
    };
    await api.start();
    const r = follow(api);
    await until("list", () => r.listed === 1);
    expect(r.names()).toEqual(["ok"]);
    expect(r.errors.filter((e) => e.phase === "object").length).toBe(2);
  });

  it("backs off exponentially, with jitter, up to the ceiling", async () => {
    api.intercept = (_req, res) => (res.writeHead(500).end("{}"), true);
    await api.start();
    const r = follow(api, { minBackoffMs: 10, maxBackoffMs: 80 });
    await until("several failures", () => r.errors.length >= 7, 5000);
    const waits = r.errors.map((e) => e.retryMs);
    expect(waits[0]).toBeGreaterThanOrEqual(5);
    expect(waits[0]).toBeLessThanOrEqual(10);
    expect(waits[3]).toBeGreaterThanOrEqual(40); // 10 * 2^3 = 80, jitter keeps at least half
    expect(Math.max(...waits)).toBeLessThanOrEqual(80);
    expect(r.listed).toBe(0);
  });
});
