import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import type { FixtureResource } from "../test/fixtures/load";
import { agentPodSpec, baseline, get } from "../test/baseline";
import { runStackPolicy } from "../test/harness";
import { nodeRouterToleratesNodeTaints as policy } from "./node-router-tolerates-node-taints";

const JOIN_WITH_TAINT = `#cloud-config
write_files:
  - path: /etc/kubernetes/join.yaml
    content: |
      apiVersion: kubeadm.k8s.io/v1beta4
      kind: JoinConfiguration
      nodeRegistration:
        taints:
          - key: dedicated
            value: gpu
            effect: NoSchedule
runcmd:
  - kubeadm join --config /etc/kubernetes/join.yaml
`;
const tainted = (userData: string, tolerations?: object[]) => {
  const s = baseline();
  get(s, "wgmesh-aws-worker-0").props.userData = userData;
  if (tolerations) agentPodSpec(s).tolerations = tolerations;
  return s;
};
const keyed = [
  { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
  { operator: "Exists", effect: "NoExecute" },
];

describe("node-router-tolerates-node-taints", () => {
  it("passes when the agent tolerates every taint", async () => {
    expect(await runStackPolicy(policy, tainted(JOIN_WITH_TAINT))).toEqual({ violations: [] });
  });

  it("rejects a custom NoSchedule taint a node pool registers through kubeadm, naming pool and taint", async () => {
    const { violations } = await runStackPolicy(policy, tainted(JOIN_WITH_TAINT, keyed));
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(
      /do not tolerate the taint dedicated=gpu:NoSchedule that userData of 'wgmesh-aws-worker-0'.*nodeRegistration\.taints/,
    );
    const tolerated = [...keyed, { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }];
    expect(await runStackPolicy(policy, tainted(JOIN_WITH_TAINT, tolerated))).toEqual({ violations: [] });
  });

  it("reads kubelet --register-with-taints, base64 user data, and managed node groups", async () => {
    const flag = Buffer.from("#!/bin/sh\nKUBELET_EXTRA_ARGS='--register-with-taints=spot=true:NoSchedule,x=y:PreferNoSchedule'\n").toString("base64");
    const s = tainted(flag, keyed);
    const eks: FixtureResource = {
      type: "aws:eks/nodeGroup:NodeGroup",
      name: "ng",
      urn: "urn:pulumi:dev::p::aws:eks/nodeGroup:NodeGroup::ng",
      props: { taints: [{ key: "batch", value: "true", effect: "NO_EXECUTE" }] },
    };
    const text = (await runStackPolicy(policy, [...s, eks])).violations.map((v) => v.message).join("\n");
    expect(text).toContain("spot=true:NoSchedule");
    expect(text).not.toContain("PreferNoSchedule");
    expect(
      await runStackPolicy(
        policy,
        [...s, eks].map((r) => r),
      ),
    ).toMatchObject({ violations: expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining("spot=true") })]) });
  });

  it("reports user data unknown at preview as unchecked unless the agent tolerates everything", async () => {
    expect((await runStackPolicy(policy, tainted(UNKNOWN_SENTINEL, keyed))).unchecked).toContain("userData of 'wgmesh-aws-worker-0'");
    expect(await runStackPolicy(policy, tainted(UNKNOWN_SENTINEL))).toEqual({ violations: [] });
  });
});

describe("node-router-tolerates-node-taints: gzip in AWS user data (issue 23, class 6)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gzipSync } = require("node:zlib") as typeof import("node:zlib");
  const keyed = (s: FixtureResource[]) => {
    agentPodSpec(s).tolerations = [
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      { operator: "Exists", effect: "NoExecute" },
    ];
    return s;
  };

  it("finds a taint in gzipped userDataBase64, and in a gz+b64 cloud-init file", async () => {
    const s = keyed(baseline());
    const w = get(s, "wgmesh-aws-worker-0");
    delete w.props.userData;
    w.props.userDataBase64 = gzipSync(Buffer.from(JOIN_WITH_TAINT)).toString("base64");
    const { violations } = await runStackPolicy(policy, s);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toContain("dedicated=gpu:NoSchedule");
    expect(violations[0].message).toContain("userDataBase64 of 'wgmesh-aws-worker-0'");
    const file = keyed(baseline());
    const content = gzipSync(Buffer.from(JOIN_WITH_TAINT.split("content: |\n")[1].split("runcmd:")[0].replace(/^ {6}/gm, ""))).toString("base64");
    get(file, "wgmesh-aws-worker-0").props.userData =
      `#cloud-config\nwrite_files:\n  - path: /etc/kubernetes/join.yaml\n    encoding: gz+b64\n    content: ${content}\n`;
    expect((await runStackPolicy(policy, file)).violations).toHaveLength(1);
  });

  it("passes gzipped user data without a taint", async () => {
    const s = keyed(baseline());
    const w = get(s, "wgmesh-aws-worker-0");
    w.props.userDataBase64 = gzipSync(Buffer.from(String(w.props.userData))).toString("base64");
    delete w.props.userData;
    expect(await runStackPolicy(policy, s)).toEqual({ violations: [] });
  });
});
