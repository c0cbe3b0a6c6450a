// The one reader of `ip -force -batch` stderr, whole (one-shot batches) or a line at a time as
// it arrives (the long-running child, ipBatch.ts).
import { computeDesired } from "../../src/desired";
import { diff, ruleKey } from "../../src/diff";
import { addRuleLine, BatchErrorReader, delRuleLine, parseBatchErrors, parseRule } from "../../src/iproute2";
import { ownershipFrom } from "../../src/kernel";
import { OWNED_PRIORITY_SPAN } from "../../src/settings";
import { settings } from "../fixtures";
import { monitorLineReader } from "../../src/linkMonitor";

const STDERR = [
  "RTNETLINK answers: File exists",
  "Command failed -:2",
  'Error: either "to" is duplicate, or "nope" is a garbage.',
  "Command failed -:4",
  "Command failed -:5",
  "",
].join("\n");

describe("batch errors", () => {
  it("pairs each failed line with the messages before it", () => {
    expect([...parseBatchErrors(STDERR)]).toEqual([
      [2, "RTNETLINK answers: File exists"],
      [4, 'Error: either "to" is duplicate, or "nope" is a garbage.'],
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

describe("rules read back (`ip -j -d rule show`, captured from iproute2 6.1)", () => {
  const S = settings();
  const own = ownershipFrom(S, OWNED_PRIORITY_SPAN);
  // What the kernel reports for the rules computeDesired writes on a control plane.
  const shown = [
    { priority: 0, src: "all", table: "local", protocol: "kernel" },
    { priority: 1000, src: "all", fwmark: "0xe00", fwmask: "0xf00", ipproto: "udp", sport: 51871, dport: 51871, table: "main", protocol: "211" },
    { priority: 1010, src: "all", fwmark: "0x4000000", fwmask: "0x4000000", ipproto: "tcp", sport: 6443, table: "main", protocol: "211" },
    {
      priority: 1011,
      src: "all",
      fwmark: "0x4000000",
      fwmask: "0x4000000",
      ipproto: "tcp",
      sport_start: 2379,
      sport_end: 2380,
      table: "main",
      protocol: "211",
    },
    { priority: 1030, src: "all", table: "51871", protocol: "211" },
    { priority: 1040, src: "all", ipproto: "tcp", dport: 6443, table: "main", protocol: "211" },
    { priority: 1041, src: "all", ipproto: "tcp", dport_start: 2379, dport_end: 2380, table: "main", protocol: "211" },
    { priority: 1060, src: "all", table: "51872", protocol: "211" },
  ];
  const desired = computeDesired({
    localNodeName: "cp",
    deviceUp: true,
    settings: S,
    nodes: [
      { name: "cp", addresses: ["198.51.100.1"], podCidrs: [], controlPlane: true },
      { name: "w", addresses: ["198.51.100.2"], podCidrs: [], controlPlane: false },
    ],
  });

  it("parses the mark-and-port rules into exactly what computeDesired wants: no churn", () => {
    const read = shown.flatMap((j) => parseRule(j, 4, own) ?? []);
    expect(read.map(ruleKey).sort()).toEqual(
      desired.rules
        .filter((r) => r.family === 4)
        .map(ruleKey)
        .sort(),
    );
    expect(read.some((r) => r.extra)).toBe(false);
  });

  it("replaces the old mark-only and port-only rules: adds the new ones, deletes the old ones by their full selectors", () => {
    const old = [
      { priority: 1000, src: "all", fwmark: "0xe00", fwmask: "0xf00", table: "main", protocol: "211" },
      { priority: 1010, src: "all", ipproto: "tcp", sport: 6443, table: "main", protocol: "211" },
      ...shown.filter((j) => ![1000, 1010].includes(j.priority)),
    ].flatMap((j) => parseRule(j, 4, own) ?? []);
    const plan = diff({ rules: desired.rules.filter((r) => r.family === 4), routes: [] }, { rules: old, routes: [] }, { prune: true });
    expect(plan.add.rules.map(addRuleLine)).toEqual([
      "rule add priority 1000 fwmark 0xe00/0xf00 ipproto udp sport 51871 dport 51871 lookup main protocol 211",
      "rule add priority 1010 fwmark 0x4000000/0x4000000 ipproto tcp sport 6443 lookup main protocol 211",
    ]);
    expect(plan.remove.rules.map(delRuleLine)).toEqual([
      "rule del priority 1000 fwmark 0xe00/0xf00 lookup main protocol 211",
      "rule del priority 1010 ipproto tcp sport 6443 lookup main protocol 211",
    ]);
  });

  it("an ipproto the agent never writes marks the rule as foreign-shaped (removed, not adopted)", () => {
    expect(parseRule({ priority: 1000, src: "all", ipproto: "sctp", table: "main", protocol: "211" }, 4, own)?.extra).toBe("ipproto=sctp");
  });
});
