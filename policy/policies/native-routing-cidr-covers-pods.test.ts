import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumValues, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nativeRoutingCidrCoversPods as policy } from "./native-routing-cidr-covers-pods";

/** Baseline where only the kubeadm podSubnet in the control-plane user data reveals the pod CIDR. */
function kubeadmOnly() {
  const s = baseline().filter((r) => r.type !== "pulumi:pulumi:Stack");
  delete ciliumValues(s).ipam;
  return s;
}

describe("native-routing-cidr-covers-pods", () => {
  it("passes when the native-routing CIDR covers every pod CIDR", async () => {
    expect(await runStackPolicy(policy, baseline())).toEqual({ violations: [] });
  });

  it("rejects a native-routing CIDR that misses the kubeadm podSubnet, naming both", async () => {
    const s = kubeadmOnly();
    ciliumValues(s).ipv4NativeRoutingCIDR = "10.245.0.0/16";
    const { violations } = await runStackPolicy(policy, s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(/values\.ipv4NativeRoutingCIDR '10\.245\.0\.0\/16' does not cover pod CIDR\(s\) 10\.244\.0\.0\/16/);
    expect(violations[0].urn).toBe(get(s, "cilium").urn);
  });

  it("finds the pod CIDR in base64 launch-template user data and in stack outputs", async () => {
    const s = kubeadmOnly();
    ciliumValues(s).ipv4NativeRoutingCIDR = "10.0.0.0/24";
    const cp = get(s, "wgmesh-aws-cp-0");
    cp.type = "aws:ec2/launchTemplate:LaunchTemplate";
    cp.props.userData = Buffer.from(String(cp.props.userData)).toString("base64");
    expect((await runStackPolicy(policy, s)).violations[0].message).toContain("10.244.0.0/16");
    const t = baseline().filter((r) => !r.type.endsWith("Instance"));
    delete ciliumValues(t).ipam;
    ciliumValues(t).ipv4NativeRoutingCIDR = "10.0.0.0/24";
    expect((await runStackPolicy(policy, t)).violations[0].message).toContain("10.244.0.0/16"); // from stack output podCidr
  });

  it("uses configured podCidrs instead of discovery", async () => {
    const { violations } = await runStackPolicy(policy, baseline(), { podCidrs: ["172.16.0.0/16"] });
    expect(violations[0].message).toContain("172.16.0.0/16");
  });

  it("says plainly when the only place holding the pod CIDR is unknown", async () => {
    const s = kubeadmOnly();
    get(s, "wgmesh-aws-cp-0").props.userData = UNKNOWN_SENTINEL;
    const out = await runStackPolicy(policy, s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toMatch(/userData of 'wgmesh-aws-cp-0'.*unknown at preview/);
  });

  it("has nothing to check when the stack shows no pod CIDR", async () => {
    const s = kubeadmOnly();
    get(s, "wgmesh-aws-cp-0").props.userData = "#cloud-config\n";
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });
});
