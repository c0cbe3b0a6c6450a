import { baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { apiServerNotPublic as policy } from "./api-server-not-public";

const open = (cidr: string) => {
  const s = baseline();
  get(s, "wgmesh-api-admin").props.cidrIpv4 = cidr;
  return s;
};

describe("api-server-not-public (advisory by default)", () => {
  it("is advisory and passes the API open to admin CIDRs and nodes", async () => {
    expect(policy.enforcementLevel).toBe("advisory");
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("reports TCP 6443 from 0.0.0.0/0 and ::/0", async () => {
    expect((await runStackPolicy(policy, open("0.0.0.0/0"))).violations[0].message).toMatch(
      /'wgmesh-api-admin' .*admits the Kubernetes API \(TCP 6443\) from 0\.0\.0\.0\/0/,
    );
    const v6 = baseline();
    get(v6, "wgmesh-api-admin").props = { ...get(v6, "wgmesh-api-admin").props, cidrIpv4: undefined, cidrIpv6: "::/0" };
    expect((await runStackPolicy(policy, v6)).violations).toHaveLength(1);
  });

  it("does not report other ports from anywhere (ICMP for path MTU), or 6443 from a broad range that is not the internet", async () => {
    expect(await runStackPolicy(policy, open("10.0.0.0/8"))).toEqual({ violations: [] });
  });
});
