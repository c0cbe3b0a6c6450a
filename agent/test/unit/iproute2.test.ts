// The one reader of `ip -force -batch` stderr, whole (one-shot batches) or a line at a time as
// it arrives (the long-running child, ipBatch.ts).
import { BatchErrorReader, parseBatchErrors } from "../../src/iproute2";
import { monitorLineReader } from "../../src/linkMonitor";

const STDERR = [
  "RTNETLINK answers: File exists",
  "Command failed -:2",
  "Error: either \"to\" is duplicate, or \"nope\" is a garbage.",
  "Command failed -:4",
  "Command failed -:5",
  "",
].join("\n");

describe("batch errors", () => {
  it("pairs each failed line with the messages before it", () => {
    expect([...parseBatchErrors(STDERR)]).toEqual([
      [2, "RTNETLINK answers: File exists"],
      [4, "Error: either \"to\" is duplicate, or \"nope\" is a garbage."],
      [5, "failed"],
    ]);
  });

  it("reads the same a line at a time, whatever the chunks", () => {
    const reader = new BatchErrorReader();
    const seen = STDERR.split("\n").flatMap((line) => reader.read(line) ?? []);
    expect(seen.length).toBe(3);
    expect(new Map(seen.map((f) => [f.lineNo, f.message]))).toEqual(parseBatchErrors(STDERR));
  });
});

describe("ip monitor lines", () => {
  const read = monitorLineReader("cilium_wg0", { protocol: 211, tables: [51871, 51872] });
  it.each([
    ["7: cilium_wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN", "device"],
    ["Deleted 7: cilium_wg0: <POINTOPOINT,NOARP> mtu 1420", "device"],
    ["Deleted 1030:\tfrom all lookup 51871 proto 211", "owned-deleted"],
    ["Deleted 198.18.0.0/16 dev cilium_wg0 table 51872 proto 211 scope link", "owned-deleted"],
    ["Deleted 1030:\tfrom all lookup 100 proto 4", undefined],
    ["8: cilium_wg01: <UP> mtu 1420", undefined],
    ["198.18.0.0/16 dev cilium_wg0 table 51871 proto 211", undefined],
  ])("%j -> %s", (line, event) => {
    expect(read(line)).toBe(event);
  });

  it("without owned state to watch, deletions of rules and routes are not ours", () => {
    expect(monitorLineReader("cilium_wg0")("Deleted 1030:\tfrom all lookup 51871 proto 211")).toBeUndefined();
  });
});
