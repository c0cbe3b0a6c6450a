import { expandPools, firstControlPlane, mayInit } from "./nodes";

const pool = (name: string, role: "control-plane" | "worker", count: number) => ({ name, role, count, machineType: "m", zone: "z", diskSizeGb: 50 });
const nodes = [
  ...expandPools("c", "aws", [pool("cp", "control-plane", 3), pool("w", "worker", 2)]),
  ...expandPools("c", "gcp", [pool("cp", "control-plane", 1)]),
];

describe("who may start a cluster", () => {
  it("only the first control plane in the stable order (AWS, then GCP, then pool order)", () => {
    expect(firstControlPlane(nodes).name).toBe("c-aws-cp-0");
    expect(nodes.filter((n) => mayInit(n, nodes, [])).map((n) => n.name)).toEqual(["c-aws-cp-0"]);
  });

  it("not the first control plane when it is rebuilt while others exist: it must join them", () => {
    expect(mayInit(nodes[0], nodes, ["c-aws-cp-0"])).toBe(false);
    expect(mayInit(nodes[0], nodes, ["c-aws-w-0"])).toBe(true);
  });

  it("a lone control plane rebuilt may start the (new) cluster: its etcd went with its disk", () => {
    const lone = expandPools("c", "aws", [pool("cp", "control-plane", 1), pool("w", "worker", 1)]);
    expect(mayInit(lone[0], lone, ["c-aws-cp-0"])).toBe(true);
  });
});
