import { anyControlPlaneSurvives, readinessDiff } from "./apiServerReady";

// What the engine passes the dynamic provider for an instance being created: an unknown.
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const base = { url: "https://198.51.100.10:6443", caPem: "CA", timeoutMs: 1, intervalMs: 1 };

describe("when is the cluster a new one", () => {
  it("not while any control-plane instance of the last run survives", () => {
    expect(anyControlPlaneSurvives(["i-1", "i-2", "i-3"], ["i-1", "i-2", UNKNOWN])).toBe(true); // one rebuilt
    expect(anyControlPlaneSurvives(["i-1"], ["i-1", UNKNOWN, UNKNOWN])).toBe(true); // two added
    expect(readinessDiff({ ...base, controlPlaneIds: ["i-1", "i-2", "i-3"] }, { ...base, controlPlaneIds: ["i-1", "i-2", UNKNOWN] })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("when none survives (a lone control plane rebuilt, or all lost), or the CA changed", () => {
    expect(readinessDiff({ ...base, controlPlaneIds: ["i-1"] }, { ...base, controlPlaneIds: [UNKNOWN] }).replaces).toEqual(["controlPlaneIds"]);
    expect(readinessDiff({ ...base, controlPlaneIds: ["i-1"] }, { ...base, caPem: "CA2", controlPlaneIds: ["i-1"] }).replaces).toEqual(["caPem"]);
  });

  it("another admin endpoint is the same cluster", () => {
    expect(readinessDiff({ ...base, controlPlaneIds: ["i-1"] }, { ...base, url: "https://api.example.com:6443", controlPlaneIds: ["i-1"] }).changes).toBe(false);
  });
});
