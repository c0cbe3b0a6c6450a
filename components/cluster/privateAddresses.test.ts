import { describePlacement, poolSlot, privateAddresses, subnetAddresses, subnetCapacity } from "./privateAddresses";
import { expandPools } from "../core/nodes";

const names = (pools: [string, number][], cloud = "aws") =>
  pools.flatMap(([pool, count]) => Array.from({ length: count }, (_, i) => `c-${cloud}-${pool}-${i}`));

describe("private addresses from the subnet plan", () => {
  it("leave each cloud's reserved addresses alone: AWS the first four and the last, GCP the first two and the last two", () => {
    expect(subnetCapacity("aws", "10.10.1.0/24")).toEqual({ usable: 251, perPool: 62 });
    expect(subnetCapacity("gcp", "10.20.1.0/24")).toEqual({ usable: 252, perPool: 63 });
    expect(subnetAddresses("aws", "10.10.1.0/24", ["c-aws-cp-0"]).addresses).toEqual({ "c-aws-cp-0": "10.10.1.4" });
    expect(subnetAddresses("gcp", "10.20.1.0/24", ["c-gcp-w-0"]).addresses).toEqual({ "c-gcp-w-0": "10.20.1.2" });
    // The last address of the last block stays clear of the reserved tail.
    const full = subnetAddresses(
      "aws",
      "10.10.1.0/24",
      names([
        ["a", 62],
        ["b", 62],
        ["c", 62],
        ["d", 62],
      ]),
    ).addresses;
    expect(full["c-aws-d-61"]).toBe("10.10.1.251");
    expect(new Set(Object.values(full)).size).toBe(248);
    const gcp = subnetAddresses(
      "gcp",
      "10.20.1.0/24",
      names(
        [
          ["a", 63],
          ["b", 63],
          ["c", 63],
          ["d", 63],
        ],
        "gcp",
      ),
    ).addresses;
    expect(gcp["c-gcp-d-62"]).toBe("10.20.1.253"); // .254 is GCP's, .255 broadcast
  });

  it("give each pool a fixed block: growing a pool or adding one after the others moves no other node", () => {
    const before = subnetAddresses(
      "aws",
      "10.10.1.0/24",
      names([
        ["cp", 1],
        ["w", 2],
      ]),
    ).addresses;
    expect(before).toEqual({ "c-aws-cp-0": "10.10.1.4", "c-aws-w-0": "10.10.1.66", "c-aws-w-1": "10.10.1.67" });
    const after = subnetAddresses(
      "aws",
      "10.10.1.0/24",
      names([
        ["cp", 3],
        ["w", 5],
        ["x", 1],
      ]),
    ).addresses;
    for (const [name, address] of Object.entries(before)) expect([name, after[name]]).toEqual([name, address]);
    expect(after["c-aws-x-0"]).toBe("10.10.1.128");
    expect(new Set(Object.values(after)).size).toBe(Object.keys(after).length);
  });

  it("place every cloud's and zone's nodes in their own subnet", () => {
    const nodes = [
      ...expandPools("c", "aws", [
        { name: "cp", role: "control-plane", count: 1, machineType: "m", zone: "eu-west-1a", diskSizeGb: 50 },
        { name: "w", role: "worker", count: 1, machineType: "m", zone: "eu-west-1b", diskSizeGb: 50 },
      ]),
      ...expandPools("c", "gcp", [{ name: "w", role: "worker", count: 2, machineType: "m", zone: "europe-west1-b", diskSizeGb: 50 }]),
    ];
    const { addresses, problems } = privateAddresses(nodes, { aws: { "eu-west-1a": "10.10.1.0/24", "eu-west-1b": "10.10.2.0/24" }, gcp: "10.20.1.0/24" });
    expect(problems).toEqual([]);
    expect(addresses).toEqual({ "c-aws-cp-0": "10.10.1.4", "c-aws-w-0": "10.10.2.4", "c-gcp-w-0": "10.20.1.2", "c-gcp-w-1": "10.20.1.3" });
    expect(() => privateAddresses(nodes, { aws: { "eu-west-1a": "10.10.1.0/24" }, gcp: "10.20.1.0/24" })).toThrow(
      /c-aws-w-0: no aws subnet for zone eu-west-1b/,
    );
  });

  it("refuse what does not fit, saying which subnet and how to fix it", () => {
    const tooMany = privateAddresses(
      expandPools("c", "aws", [{ name: "w", role: "worker", count: 63, machineType: "m", zone: "eu-west-1a", diskSizeGb: 50 }]),
      { aws: { "eu-west-1a": "10.10.1.0/24" } },
    );
    expect(tooMany.addresses).toEqual({});
    expect(tooMany.problems.map(describePlacement)).toEqual([
      "63 nodes, but a pool's block of zone eu-west-1a's subnet 10.10.1.0/24 holds 62 (1/4 of its usable addresses); give the zone a larger subnet in aws.subnetCidrs.eu-west-1a (a /22 holds 254 per pool) or spread the pool over zones",
    ]);
    const pools = subnetAddresses(
      "gcp",
      "10.20.1.0/24",
      names(
        [
          ["a", 1],
          ["b", 1],
          ["c", 1],
          ["d", 1],
          ["e", 1],
        ],
        "gcp",
      ),
    );
    expect(pools.problems).toEqual([{ kind: "pools", pools: ["c-gcp-a", "c-gcp-b", "c-gcp-c", "c-gcp-d", "c-gcp-e"], blocks: 4 }]);
    expect(describePlacement({ cloud: "gcp", cidr: "10.20.1.0/24", problem: pools.problems[0] })).toMatch(
      /^5 pools share the GCP subnet 10\.20\.1\.0\/24, at most 4 can .*merge pools$/,
    );
    // A /28 has 16 - 4 = 12 usable addresses on GCP: 3 per pool.
    expect(subnetAddresses("gcp", "10.20.1.0/28", names([["w", 4]], "gcp")).problems).toEqual([{ kind: "count", pool: "c-gcp-w", count: 4, fits: 3 }]);
    expect(subnetAddresses("gcp", "10.20.1.0/28", names([["w", 3]], "gcp")).problems).toEqual([]);
  });

  it("read a node's pool and slot from its name", () => {
    expect(poolSlot("demo-aws-big-workers-12")).toEqual({ pool: "demo-aws-big-workers", slot: 12 });
    expect(() => poolSlot("worker")).toThrow(/not named <pool>-<index>/);
  });
});
