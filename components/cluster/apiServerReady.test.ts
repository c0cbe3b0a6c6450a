import { readinessDiff } from "./apiServerReady";

// What the engine passes the dynamic provider for an instance being created: an unknown.
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const base = { url: "https://198.51.100.10:6443", caPem: "CA", timeoutMs: 1, intervalMs: 1 };
const same = { changes: false, replaces: [], deleteBeforeReplace: false };

describe("when may the cluster be a new one", () => {
  it("not while the founder (the only node that may init) is the same instance, whatever else changes", () => {
    expect(readinessDiff({ ...base, founderId: "i-1" }, { ...base, founderId: "i-1" })).toEqual(same);
  });

  it("when the founder is rebuilt (it may have started a new cluster), or the CA changed: wait and read the identity again", () => {
    expect(readinessDiff({ ...base, founderId: "i-1" }, { ...base, founderId: UNKNOWN }).replaces).toEqual(["founderId"]);
    expect(readinessDiff({ ...base, founderId: "i-1" }, { ...base, caPem: "CA2", founderId: "i-1" }).replaces).toEqual(["caPem"]);
  });

  it("another admin endpoint is the same cluster", () => {
    expect(readinessDiff({ ...base, founderId: "i-1" }, { ...base, url: "https://api.example.com:6443", founderId: "i-1" }).changes).toBe(false);
  });
});
