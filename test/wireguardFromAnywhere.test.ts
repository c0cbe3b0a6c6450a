// The large-cluster mode (cluster.wireguardFrom: anywhere) through the real program under mocks.
// On the multicloud stack (control planes in AWS, workers in both clouds) every node still reaches
// every other on UDP 51871, now through one rule from 0.0.0.0/0 on each AWS group and GCP role,
// while 6443 and etcd keep their per-node sources and nothing else is opened to the internet; the
// policy pack, run as the CLI runs it after `up` and in a later preview, finds no mandatory
// violation, every variant as it expects, and no finding at all from the firewall policies. The
// gcp stack shows a GCP control plane: 6443 and etcd from the nodes' /32s there too.
import { join } from "node:path";
import { configureFromFile, previewLike, startPack, type PackProcess } from "../policy/test/analyzer-client";
import { ofType, type Recorded } from "./pulumiMocks";
import { policyChecks } from "./policyAssertions";
import { fromRecorded, stackPackConfig } from "./policyPhases";
import { editConfig, runProgram, stackConfig, type StackRun } from "./stackHarness";
import { admissionsTo, admitted, underlayNodes, type UnderlayNode } from "./underlay";

const WIREGUARD = 51871;
const anywhere = (stack: string) => editConfig(stackConfig(stack), "cluster", (c) => (c.wireguardFrom = "anywhere"));
const awsRules = (rs: readonly Recorded[]) =>
  Object.fromEntries(ofType(rs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => [r.name, r.inputs]));
const gcpRules = (rs: readonly Recorded[]) => Object.fromEntries(ofType(rs, "gcp:compute/firewall:Firewall").map((f) => [f.inputs.name, f.inputs]));
const listEntries = (rs: readonly Recorded[], id: string) =>
  ofType(rs, "aws:ec2/managedPrefixList:ManagedPrefixList")
    .find((l) => l.id === id)!
    .inputs.entries.map((e: { cidr: string }) => e.cidr)
    .sort();

describe("stack multicloud with cluster.wireguardFrom: anywhere, under mocks", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runProgram("multicloud", anywhere("multicloud"));
  }, 300_000);

  it("admits UDP 51871 alone from 0.0.0.0/0 on every AWS group and GCP role, named like the other CIDR rules", () => {
    const aws = awsRules(run.recorded);
    for (const role of ["control-plane", "worker"]) {
      expect(aws[`meshmc-aws-${role}-wireguard-cidr0`]).toMatchObject({ ipProtocol: "udp", fromPort: WIREGUARD, toPort: WIREGUARD, cidrIpv4: "0.0.0.0/0" });
      expect(Object.keys(aws).filter((k) => k.startsWith(`meshmc-aws-${role}-wireguard`))).toEqual([`meshmc-aws-${role}-wireguard-cidr0`]);
    }
    expect(gcpRules(run.recorded)["meshmc-worker-wireguard"]).toMatchObject({
      allows: [{ protocol: "udp", ports: [`${WIREGUARD}`] }],
      sourceRanges: ["0.0.0.0/0"],
    });
  });

  it("keeps 6443 from every node's address and etcd from the control planes', through the prefix lists", () => {
    const nodes = underlayNodes(run.recorded);
    const aws = awsRules(run.recorded);
    expect(listEntries(run.recorded, aws["meshmc-aws-control-plane-apiserver"].prefixListId)).toEqual(nodes.map((n) => `${n.address}/32`).sort());
    expect(listEntries(run.recorded, aws["meshmc-aws-control-plane-etcd"].prefixListId)).toEqual(
      nodes
        .filter((n) => n.role === "control-plane")
        .map((n) => `${n.address}/32`)
        .sort(),
    );
  });

  it("lets every node reach every other on UDP 51871, and opens nothing else between nodes but ICMP and the bootstrap ports to control planes", () => {
    const nodes = underlayNodes(run.recorded);
    expect(nodes).toHaveLength(7);
    const offending: string[] = [];
    for (const from of nodes) {
      for (const to of nodes.filter((n) => n !== from)) {
        const ok = admitted(run.recorded, from, to);
        expect({ from: from.name, to: to.name, wireguard: ok.some((a) => a.protocol === "udp" && a.from === WIREGUARD && a.to === WIREGUARD) }).toEqual({
          from: from.name,
          to: to.name,
          wireguard: true,
        });
        for (const a of ok) {
          const bootstrap = (p: number) => p === 6443 || p === 2379 || p === 2380;
          const allowed =
            a.protocol === "icmp" ||
            (a.protocol === "udp" && a.from === WIREGUARD && a.to === WIREGUARD) ||
            (a.protocol === "tcp" && to.role === "control-plane" && bootstrap(a.from) && bootstrap(a.to));
          if (!allowed) offending.push(`${a.rule}: ${a.protocol} ${a.from}-${a.to} ${from.name} -> ${to.name}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("admits from an address that is no node's (and no admin's) WireGuard's port and ICMP only", () => {
    const stranger: UnderlayNode = { name: "stranger", cloud: "aws", address: "198.18.0.9", role: "none" };
    for (const to of underlayNodes(run.recorded)) {
      const open = admitted(run.recorded, stranger, to).map((a) => `${a.protocol} ${a.from}-${a.to}`);
      expect({ to: to.name, open: [...new Set(open)].sort() }).toEqual({
        to: to.name,
        open: to.cloud === "aws" ? ["icmp 3-4", `udp ${WIREGUARD}-${WIREGUARD}`] : ["icmp -1--1", `udp ${WIREGUARD}-${WIREGUARD}`],
      });
      // ... while the control planes' firewalls still admit 6443 and etcd, from nodes only.
      if (to.role === "control-plane") expect(admissionsTo(run.recorded, to).some((a) => a.protocol === "tcp")).toBe(true);
    }
  });

  policyChecks(() => run.recorded);

  describe("the firewall policies, as the CLI runs the pack", () => {
    const FIREWALL_POLICIES = [
      "underlay-firewall-rules",
      "wireguard-port-between-pools",
      "wireguard-port-from-nodes-only",
      "etcd-from-control-plane-only",
      "api-server-not-public",
    ];
    let pack: PackProcess;
    beforeAll(async () => {
      pack = await startPack(join(__dirname, "..", "policy"));
      await configureFromFile(pack.client, stackPackConfig("multicloud"));
    }, 120_000);
    afterAll(async () => {
      await pack?.stop();
    });
    const firewallFindings = async (resources: ReturnType<typeof fromRecorded>) =>
      (await previewLike(pack.client, resources)).filter((d) => FIREWALL_POLICIES.includes(d.policy)).map((d) => `${d.level} ${d.policy}: ${d.message}`);

    it.each(["up", "later-preview"] as const)("find nothing, not even an advisory, in %s", async (phase) => {
      expect(await firewallFindings(fromRecorded(run.recorded, phase))).toEqual([]);
    });

    it("... and report the same rule once it admits a second UDP port from anywhere (control case)", async () => {
      const widened = fromRecorded(run.recorded, "up", (s) =>
        s.map((r) =>
          r.name === "meshmc-aws-worker-wireguard-cidr0"
            ? { ...r, inputs: { ...r.inputs, toPort: WIREGUARD + 1 }, props: { ...r.props, toPort: WIREGUARD + 1 } }
            : r,
        ),
      );
      const findings = await firewallFindings(widened);
      expect(findings).toEqual([
        expect.stringMatching(/^mandatory underlay-firewall-rules: .*'meshmc-aws-worker-wireguard-cidr0'.*admits UDP 51872 from 0\.0\.0\.0\/0/s),
        expect.stringMatching(
          /^advisory wireguard-port-from-nodes-only: .*'meshmc-aws-worker-wireguard-cidr0'.*from the range 0\.0\.0\.0\/0 \(the rule admits UDP 51871-51872 from it/s,
        ),
      ]);
    });
  });
});

describe("stack gcp with cluster.wireguardFrom: anywhere, under mocks", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runProgram("gcp", anywhere("gcp"));
  }, 300_000);

  it("admits WireGuard from 0.0.0.0/0 on both roles; 6443 from every node's /32 and etcd from the control plane's on the GCP control plane", () => {
    const nodes = underlayNodes(run.recorded);
    const rules = gcpRules(run.recorded);
    const name = JSON.parse(stackConfig("gcp")["wg-mesh-cluster:cluster"]).name as string;
    for (const role of ["control-plane", "worker"]) {
      expect(rules[`${name}-${role}-wireguard`]).toMatchObject({ allows: [{ protocol: "udp", ports: [`${WIREGUARD}`] }], sourceRanges: ["0.0.0.0/0"] });
    }
    expect([...rules[`${name}-control-plane-apiserver`].sourceRanges].sort()).toEqual(nodes.map((n) => `${n.address}/32`).sort());
    expect(rules[`${name}-control-plane-etcd`].sourceRanges).toEqual(nodes.filter((n) => n.role === "control-plane").map((n) => `${n.address}/32`));
    expect(rules[`${name}-control-plane-apiserver`].allows).toEqual([{ protocol: "tcp", ports: ["6443"] }]);
  });
});
