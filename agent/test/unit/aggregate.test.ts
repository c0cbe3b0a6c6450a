import { aggregate } from "../../src/aggregate";

describe("aggregate", () => {
  it.each([
    [4, ["198.18.0.0/32", "198.18.0.1/32"], ["198.18.0.0/31"]],
    [4, ["198.18.0.1/32", "198.18.0.2/32"], ["198.18.0.1/32", "198.18.0.2/32"]],
    [4, ["198.18.0.0/24", "198.18.0.7/32", "198.18.1.0/24"], ["198.18.0.0/23"]],
    [4, ["198.18.0.4/32", "198.18.0.5/32", "198.18.0.6/32"], ["198.18.0.4/31", "198.18.0.6/32"]],
    [4, ["198.18.0.5/32", "198.18.0.5/32"], ["198.18.0.5/32"]],
    [4, [], []],
    [6, ["2001:db8::/65", "2001:db8:0:0:8000::/65"], ["2001:db8::/64"]],
    [6, ["2001:db8::1/128", "2001:db8::3/128"], ["2001:db8::1/128", "2001:db8::3/128"]],
  ] as const)("family %i %j -> %j", (family, input, expected) => {
    expect(aggregate([...input], family)).toEqual(expected);
  });

  it("covers exactly the input addresses (no address added or lost)", () => {
    const input = ["198.18.0.3/32", "198.18.0.4/30", "198.18.0.8/29", "198.18.0.17/32", "198.18.0.16/32"];
    const expand = (cidrs: string[]) => {
      const set = new Set<number>();
      for (const c of cidrs) {
        const [a, l] = c.split("/");
        const start = a.split(".").reduce((v, o) => v * 256 + Number(o), 0);
        for (let i = 0; i < 2 ** (32 - Number(l)); i++) set.add(start + i);
      }
      return [...set].sort();
    };
    expect(expand(aggregate(input, 4))).toEqual(expand(input));
    expect(aggregate(input, 4)).toEqual(["198.18.0.3/32", "198.18.0.4/30", "198.18.0.8/29", "198.18.0.16/31"]);
  });
});
