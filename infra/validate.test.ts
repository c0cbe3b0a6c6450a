// Every rejected configuration names the key and the fix, and the valid stacks pass.
import { validateStackConfig, ConfigError } from "./validate";

const base = () => ({
  cluster: { name: "demo", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", adminCidrs: ["203.0.113.0/24"] },
  aws: {
    region: "eu-west-1",
    vpcCidr: "10.10.0.0/16",
    subnetCidr: "10.10.1.0/24",
    pools: [
      { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a" },
      { name: "w", role: "worker", count: 2, machineType: "t3.large", zone: "eu-west-1a" },
    ],
  },
});

const problemsOf = (raw: Record<string, unknown>): string[] => {
  try {
    validateStackConfig(raw, "proj");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error("expected the configuration to be rejected");
};

describe("validateStackConfig", () => {
  it("accepts a valid config and expands its pools into named nodes", () => {
    const v = validateStackConfig(base(), "proj");
    expect(v.nodes.map((n) => n.name)).toEqual(["demo-aws-cp-0", "demo-aws-w-0", "demo-aws-w-1"]);
    expect(v.warnings).toEqual([]);
  });

  const cases: [string, (c: any) => void, RegExp][] = [
    ["no control-plane node", (c) => { c.aws.pools[0].role = "worker"; }, /no control-plane node; add a pool with role "control-plane"/],
    ["no cloud", (c) => { delete c.aws; }, /proj:aws \/ proj:gcp: no cloud configured/],
    ["unknown cloud", (c) => { c.azure = { region: "westeurope" }; }, /proj:azure: unknown key \(an unknown cloud\?\); supported clouds are aws, gcp/],
    ["unknown role", (c) => { c.aws.pools[1].role = "etcd"; }, /proj:aws\.pools\.1\.role:/],
    ["pod CIDR overlaps service CIDR", (c) => { c.cluster.serviceCidr = "10.244.128.0/20"; }, /proj:cluster\.serviceCidr: 10\.244\.128\.0\/20 overlaps proj:cluster\.podCidr/],
    ["pod CIDR overlaps the VPC", (c) => { c.cluster.podCidr = "10.10.0.0/17"; }, /proj:aws\.vpcCidr: 10\.10\.0\.0\/16 overlaps proj:cluster\.podCidr/],
    ["subnet outside its VPC", (c) => { c.aws.subnetCidr = "10.11.1.0/24"; }, /proj:aws\.subnetCidr: 10\.11\.1\.0\/24 is not inside the VPC CIDR 10\.10\.0\.0\/16/],
    ["malformed CIDR", (c) => { c.cluster.podCidr = "10.244.0.0/33"; }, /proj:cluster\.podCidr: "10\.244\.0\.0\/33" is not a CIDR/],
    ["short IPv4 form", (c) => { c.cluster.podCidr = "10.244/16"; }, /proj:cluster\.podCidr: "10\.244\/16" is not a CIDR \(write IPv4 as four dotted numbers/],
    ["host bits set", (c) => { c.cluster.podCidr = "10.244.1.0/16"; }, /did you mean 10\.244\.0\.0\/16\?/],
    ["zone outside region", (c) => { c.aws.pools[0].zone = "us-east-1a"; }, /proj:aws\.pools\.0\.zone: zone "us-east-1a" is not in region "eu-west-1"/],
    ["duplicate pool names", (c) => { c.aws.pools[1].name = "cp"; }, /proj:aws\.pools\.1\.name: duplicate pool name "cp"/],
    ["native routing CIDR not covering the pod CIDR", (c) => { c.cilium = { nativeRoutingCidr: "10.244.0.0/24" }; }, /proj:cilium\.nativeRoutingCidr: 10\.244\.0\.0\/24 does not cover the pod CIDR/],
    ["misspelled key", (c) => { c.cluster.podCIDR = "10.0.0.0/8"; }, /proj:cluster: unknown key\(s\) podCIDR; remove them or fix the spelling/],
    ["missing cluster", (c) => { delete c.cluster; }, /proj:cluster: required/],
    ["bad admin CIDR", (c) => { c.cluster.adminCidrs = ["everyone"]; }, /proj:cluster\.adminCidrs\.0: "everyone" is not a CIDR/],
  ];
  it.each(cases)("rejects %s with a message naming the key and the fix", (_what, mutate, message) => {
    const c = base();
    mutate(c);
    const problems = problemsOf(c);
    expect(problems.join("\n")).toMatch(message);
  });

  it("warns, without failing, on an even number of etcd members unless acknowledged", () => {
    const c = base();
    c.aws.pools[0].count = 2;
    expect(validateStackConfig(c, "proj").warnings.join("\n")).toMatch(/even number of etcd members.*proj:cluster\.allowEvenEtcdMembers/);
    const acked = { ...c, cluster: { ...c.cluster, allowEvenEtcdMembers: true } };
    expect(validateStackConfig(acked, "proj").warnings).toEqual([]);
  });

  it("reports every problem at once", () => {
    const c: any = base();
    c.cluster.serviceCidr = "10.244.0.0/20";
    c.aws.pools[0].zone = "us-east-1a";
    expect(problemsOf(c).length).toBeGreaterThanOrEqual(2);
  });
});

describe("validateStackConfig: what runs on the cluster", () => {
  const cases: [string, (c: any) => void, RegExp][] = [
    ["unsupported Cilium chart version", (c) => { c.cilium = { version: "1.16.3" }; }, /proj:cilium\.version/],
    ["exempt port outside the bootstrap set", (c) => { c.nodeRouter = { exemptPorts: [6443, 10250] }; }, /proj:nodeRouter\.exemptPorts/],
  ];
  it.each(cases)("rejects %s", (_what, mutate, message) => {
    const c = base();
    mutate(c);
    expect(problemsOf(c).join("\n")).toMatch(message);
  });

  it("accepts extra exempt ports only with the explicit opt-in", () => {
    const c: any = base();
    c.nodeRouter = { exemptPorts: [6443, 10250], allowExtraExemptPorts: true };
    expect(() => validateStackConfig(c, "proj")).not.toThrow();
  });
});
