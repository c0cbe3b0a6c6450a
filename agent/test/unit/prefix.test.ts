import ipaddr from "ipaddr.js";
import { canonicalAddress, canonicalCidr } from "../../src/nodes";
import { canonicalIPv4ToInt, contains, overlaps, parseCanonicalIPv4Prefix, parsePrefix, PrefixCache } from "../../src/prefix";

describe("IPv4 fast path", () => {
  it.each([
    ["0.0.0.0", 0],
    ["10.0.0.1", 0x0a000001],
    ["255.255.255.255", 0xffffffff],
    ["198.51.100.7", 0xc6336407],
  ])("reads canonical %s as an integer", (text, n) => {
    expect(canonicalIPv4ToInt(text)).toBe(n);
  });

  it.each(["010.0.0.1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "1.2.3.4 ", "", "::1", "1.2.3.4/32", "1.2.3.1000"])(
    "leaves %j to ipaddr.js (not canonical IPv4)",
    (text) => {
      expect(canonicalIPv4ToInt(text)).toBeUndefined();
    },
  );

  it.each([
    ["198.18.0.0/15", true],
    ["198.18.0.1/32", true],
    ["0.0.0.0/0", true],
    ["198.18.0.1/24", false], // host bits set
    ["198.18.0.0/33", false],
    ["198.18.0.0/08", false], // leading zero in the length
    ["198.18.0.0", false],
  ])("prefix %s is canonical: %s", (text, ok) => {
    expect(parseCanonicalIPv4Prefix(text) !== undefined).toBe(ok);
  });

  it.each([
    "10.0.0.1",
    "010.0.0.1",
    " 10.0.0.1 ",
    "::ffff:10.0.0.1",
    "2001:DB8::1",
    "1.2.3",
    "nope",
    "10.0.0.0/8",
    "10.0.0.1/8",
    "10.0.0.0/08",
    "2001:db8::/64",
  ])("canonical forms of %j agree with ipaddr.js", (text) => {
    const viaLibrary = ipaddr.isValid(text.trim()) ? ipaddr.process(text.trim()).toString() : undefined;
    expect(canonicalAddress(text)).toBe(viaLibrary);
    let cidr: string | undefined;
    try {
      const [addr, len] = ipaddr.parseCIDR(text.trim());
      const network = addr.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text.trim()) : ipaddr.IPv6.networkAddressFromCIDR(text.trim());
      cidr = network.toString() === addr.toString() ? `${addr.toString()}/${len}` : undefined;
    } catch {
      cidr = undefined;
    }
    expect(canonicalCidr(text)).toBe(cidr);
  });

  it.each([
    ["198.18.0.0/15", "198.19.255.255/32", true, true],
    ["198.18.0.0/16", "198.19.0.0/16", false, false],
    ["198.51.100.128/25", "198.51.100.0/24", true, false],
    ["0.0.0.0/0", "203.0.113.9/32", true, true],
    ["2001:db8::/32", "2001:db8:1::/64", true, true],
    ["2001:db8::/32", "198.18.0.0/15", false, false],
    ["::ffff:198.18.0.0/111", "198.18.0.0/15", false, false], // an IPv4-mapped IPv6 prefix is IPv6
  ])("%s and %s overlap: %s; the first contains the second: %s", (a, b, overlap, contained) => {
    expect(overlaps(parsePrefix(a), parsePrefix(b))).toBe(overlap);
    expect(overlaps(parsePrefix(b), parsePrefix(a))).toBe(overlap);
    expect(contains(parsePrefix(a), parsePrefix(b))).toBe(contained);
  });
});

describe("PrefixCache: state its owner keeps from step to step, not a module global", () => {
  it("parses like parsePrefix, keeps the slow (IPv6) parses and hands the same object back", () => {
    const cache = new PrefixCache();
    const v6 = cache.parse("2001:db8::/32");
    expect(v6).toEqual(parsePrefix("2001:db8::/32"));
    expect(cache.parse("2001:db8::/32")).toBe(v6);
    expect(new PrefixCache().parse("2001:db8::/32")).not.toBe(v6);
    expect(cache.parse("198.18.0.0/15")).toEqual(parsePrefix("198.18.0.0/15"));
    expect(overlaps(cache.parse("2001:db8::/32"), cache.parse("2001:db8:1::/64"))).toBe(true);
  });
});
