// Which nodes a run rebuilds, from the config and the record of the last run (the image roll and
// cluster.replaceNodes once per listing), and what the run records.
import { parseNodeBuilds, planNodeBuilds, type BuildPlanInputs, type NodeBuilds } from "./nodeBuilds";
import type { NodeSpec } from "../core/nodes";

const spec = (name: string, cloud: "aws" | "gcp", role: "control-plane" | "worker"): NodeSpec => ({
  name,
  cloud,
  role,
  zone: cloud === "aws" ? "eu-west-1a" : "europe-west1-b",
  machineType: "m",
  diskSizeGb: 50,
});
// Workers listed before a control plane: the plan still puts control planes first.
const NODES = [
  spec("c-aws-w-0", "aws", "worker"),
  spec("c-aws-cp-0", "aws", "control-plane"),
  spec("c-aws-cp-1", "aws", "control-plane"),
  spec("c-gcp-cp-0", "gcp", "control-plane"),
  spec("c-gcp-w-0", "gcp", "worker"),
];
const OLD = { aws: "ami-0000000000000000a", gcp: "projects/p/global/images/old" };
const NEW = { aws: "ami-0000000000000000b", gcp: "projects/p/global/images/new" };
const recordOf = (images: { aws: string; gcp: string }, nodes = NODES): NodeBuilds =>
  Object.fromEntries(nodes.map((n) => [n.name, { image: images[n.cloud] }]));
const plan = (o: Partial<BuildPlanInputs> & { images?: { aws: string; gcp: string } } = {}) =>
  planNodeBuilds({ nodes: NODES, imageOf: (n) => (o.images ?? OLD)[n.cloud], previous: recordOf(OLD), replaceNodes: [], ...o });

describe("planNodeBuilds", () => {
  it("rebuilds nothing when every node runs its cloud's image, and records them as they are", () => {
    const p = plan();
    expect(p.rebuild).toEqual([]);
    expect(p.record).toEqual(recordOf(OLD));
  });

  it("a new AMI rolls the AWS nodes, control planes first, and records the new image for them only", () => {
    const p = plan({ images: { ...OLD, aws: NEW.aws } });
    expect(p.rebuild).toEqual(["c-aws-cp-0", "c-aws-cp-1", "c-aws-w-0"]);
    expect(p.reasons["c-aws-w-0"]).toBe(`image ${OLD.aws} -> ${NEW.aws}`);
    expect(p.record["c-aws-w-0"]).toEqual({ image: NEW.aws });
    expect(p.record["c-gcp-w-0"]).toEqual({ image: OLD.gcp });
  });

  it("new images in both clouds roll every node, every control plane before any worker", () => {
    expect(plan({ images: NEW }).rebuild).toEqual(["c-aws-cp-0", "c-aws-cp-1", "c-gcp-cp-0", "c-aws-w-0", "c-gcp-w-0"]);
  });

  it("the same plan again after a run that stopped half way (nothing recorded): the same rebuilds", () => {
    expect(plan({ images: NEW }).rebuild).toEqual(plan({ images: NEW }).rebuild);
  });

  it("with no record (a new stack, or one from before the record) rebuilds nothing for images and records the configured ones", () => {
    const p = plan({ images: NEW, previous: undefined });
    expect(p.rebuild).toEqual([]);
    expect(p.record).toEqual(recordOf(NEW));
  });

  it("a node new to the record is created, not rebuilt, and recorded at the configured image", () => {
    const p = plan({ images: { ...OLD, aws: NEW.aws }, previous: recordOf(OLD, NODES.slice(1)) });
    expect(p.rebuild).not.toContain("c-aws-w-0");
    expect(p.record["c-aws-w-0"]).toEqual({ image: NEW.aws });
  });

  it("a listed node is rebuilt once per listing: left listed it is not rebuilt again; unlisted and listed again, it is", () => {
    const first = plan({ replaceNodes: ["c-gcp-w-0"] });
    expect(first.rebuild).toEqual(["c-gcp-w-0"]);
    expect(first.reasons["c-gcp-w-0"]).toBe("listed in cluster.replaceNodes");
    expect(first.record["c-gcp-w-0"]).toEqual({ image: OLD.gcp, listed: true });
    const leftListed = plan({ replaceNodes: ["c-gcp-w-0"], previous: first.record });
    expect(leftListed.rebuild).toEqual([]);
    expect(leftListed.record["c-gcp-w-0"]).toEqual({ image: OLD.gcp, listed: true });
    const unlisted = plan({ previous: leftListed.record });
    expect(unlisted.rebuild).toEqual([]);
    expect(unlisted.record["c-gcp-w-0"]).toEqual({ image: OLD.gcp });
    expect(plan({ replaceNodes: ["c-gcp-w-0"], previous: unlisted.record }).rebuild).toEqual(["c-gcp-w-0"]);
  });

  it("a node left listed still rolls with a new image", () => {
    const listed = plan({ replaceNodes: ["c-gcp-w-0"] }).record;
    const p = plan({ images: { ...OLD, gcp: NEW.gcp }, replaceNodes: ["c-gcp-w-0"], previous: listed });
    expect(p.rebuild).toEqual(["c-gcp-cp-0", "c-gcp-w-0"]);
    expect(p.record["c-gcp-w-0"]).toEqual({ image: NEW.gcp, listed: true });
  });

  it("a listed node with no record is rebuilt (listed under a program from before the record)", () => {
    expect(plan({ replaceNodes: ["c-aws-w-0"], previous: undefined }).rebuild).toEqual(["c-aws-w-0"]);
  });

  it("holds the only control plane at its image, with the reason, and rolls the workers", () => {
    const nodes = [spec("s-aws-cp-0", "aws", "control-plane"), spec("s-aws-w-0", "aws", "worker")];
    const p = planNodeBuilds({ nodes, imageOf: () => NEW.aws, previous: recordOf(OLD, nodes), replaceNodes: [] });
    expect(p.rebuild).toEqual(["s-aws-w-0"]);
    expect(p.held["s-aws-cp-0"]).toMatch(/^s-aws-cp-0 keeps image ami-0+a: it is the only control plane, and its disk holds etcd/);
    expect(p.record["s-aws-cp-0"]).toEqual({ image: OLD.aws });
    expect(p.record["s-aws-w-0"]).toEqual({ image: NEW.aws });
  });
});

describe("parseNodeBuilds", () => {
  it.each([
    ["a record", { a: { image: "x" }, b: { image: "y", listed: true } }, true],
    ["an empty record", {}, true],
    ["a string", "x", false],
    ["null", null, false],
    ["an array", [{ image: "x" }], false],
    ["an entry without image", { a: { listed: true } }, false],
    ["an image that is no string", { a: { image: 3 } }, false],
    ["listed that is no boolean", { a: { image: "x", listed: "yes" } }, false],
  ])("%s: %s", (_what, value, valid) => {
    expect(parseNodeBuilds(value) !== undefined).toBe(valid);
  });
});
