import { adminCidrProblems, documentationRangeOf } from "./adminCidrs";

const key = "wg-mesh-cluster:cluster.adminCidrs";

describe("adminCidrProblems", () => {
  it("refuses no admin CIDR at all, naming the key and the command that fixes it", () => {
    expect(adminCidrProblems([], key)).toEqual([
      expect.stringMatching(/^wg-mesh-cluster:cluster\.adminCidrs: empty, .*pulumi config set --path 'wg-mesh-cluster:cluster\.adminCidrs\[0\]'/),
    ]);
  });

  it.each([
    ["203.0.113.0/24", "203.0.113.0/24"],
    ["198.51.100.7/32", "198.51.100.0/24"],
    ["192.0.2.128/25", "192.0.2.0/24"],
    ["2001:db8:1::/48", "2001:db8::/32"],
  ])("refuses %s (inside %s)", (cidr, range) => {
    expect(adminCidrProblems(["100.64.7.0/24", cidr], key)).toEqual([expect.stringContaining(`${key}[1]: ${cidr} is inside the documentation range ${range}`)]);
  });

  it("accepts real ranges, including ones that only contain or border a documentation range", () => {
    expect(adminCidrProblems(["100.64.7.0/24", "203.0.114.0/24", "2001:db9::/32", "198.51.0.0/16"], key)).toEqual([]);
    expect(documentationRangeOf("198.51.0.0/16")).toBeUndefined();
  });
});
