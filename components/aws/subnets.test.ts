import { derivedSubnetCidr, zoneSubnets } from "./subnets";

describe("per-zone subnets", () => {
  it("numbers a zone's /24 by its letter, independent of the other zones", () => {
    expect(derivedSubnetCidr("10.10.0.0/16", "eu-west-1a")).toBe("10.10.1.0/24");
    expect(derivedSubnetCidr("10.10.0.0/16", "eu-west-1c")).toBe("10.10.3.0/24");
    expect(derivedSubnetCidr("172.16.0.0/12", "us-east-1f")).toBe("172.16.6.0/24");
    const one = zoneSubnets("10.10.0.0/16", ["eu-west-1b"], {});
    const two = zoneSubnets("10.10.0.0/16", ["eu-west-1a", "eu-west-1b", "eu-west-1b"], {});
    expect(two.map((s) => s.zone)).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(two.find((s) => s.zone === "eu-west-1b")).toEqual(one[0]);
  });

  it("takes an explicit CIDR from aws.subnetCidrs over the derived one", () => {
    expect(zoneSubnets("10.10.0.0/16", ["eu-west-1a"], { "eu-west-1a": "10.10.64.0/20" })).toEqual([
      { zone: "eu-west-1a", cidr: "10.10.64.0/20", explicit: true },
    ]);
  });

  it("refuses what it cannot derive, pointing at aws.subnetCidrs", () => {
    expect(() => derivedSubnetCidr("10.10.0.0/28", "eu-west-1a")).toThrow(/aws\.subnetCidrs/);
    expect(() => derivedSubnetCidr("10.10.0.0/22", "eu-west-1d")).toThrow(/no \/24 number 4/);
    expect(() => derivedSubnetCidr("10.10.0.0/16", "zone-1")).toThrow(/does not end in a letter/);
  });
});
