// The checks every shipped stack must pass, run against the resources the real program
// registers under mocks.
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { X509Certificate } from "node:crypto";
import { runProgram, type StackRun } from "./stackHarness";
import { ofType, resolve } from "./pulumiMocks";
import { admitted, primaryInterface, underlayNodes } from "./underlay";
import { bootGuardDocuments, instances, nodeNameOf, userDataOf } from "./userData";
import { dependsTransitively, founderOf } from "./ordering";
import { platformChecks } from "./platformAssertions";
import { policyChecks } from "./policyAssertions";
import { cloudInitSchema, parseCloudConfig, requireTool, shellcheck } from "./tools";
import { stackConfig } from "./stackHarness";

const WIREGUARD = 51871;
const isBootstrapPort = (p: number) => p === 6443 || p === 2379 || p === 2380;

/** How many nodes of each cloud and role the stack file asks for: the count every loop below is held to. */
function expectedNodes(stack: string): { aws: number; gcp: number; controlPlanes: number; workers: number } {
  const config = stackConfig(stack);
  const pools = (cloud: string): { role: string; count: number }[] =>
    config[`wg-mesh-cluster:${cloud}`] ? JSON.parse(config[`wg-mesh-cluster:${cloud}`]).pools : [];
  const count = (ps: { count: number }[]) => ps.reduce((n, p) => n + p.count, 0);
  const all = [...pools("aws"), ...pools("gcp")];
  return {
    aws: count(pools("aws")),
    gcp: count(pools("gcp")),
    controlPlanes: count(all.filter((p) => p.role === "control-plane")),
    workers: count(all.filter((p) => p.role === "worker")),
  };
}

export function describeStack(stack: string): void {
  describe(`stack ${stack} under mocks`, () => {
    let run: StackRun;
    beforeAll(async () => {
      run = await runProgram(stack);
    });

    it("provisions the stack's nodes, at least one control plane, and gives every node an address", () => {
      const nodes = underlayNodes(run.recorded);
      const expected = expectedNodes(stack);
      expect(nodes.length).toBeGreaterThan(1);
      expect({ aws: nodes.filter((n) => n.cloud === "aws").length, gcp: nodes.filter((n) => n.cloud === "gcp").length }).toEqual({
        aws: expected.aws,
        gcp: expected.gcp,
      });
      expect(nodes.some((n) => n.role === "control-plane")).toBe(true);
      for (const n of nodes) expect(n.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    });

    it("lets every node reach every other node on UDP 51871", () => {
      const nodes = underlayNodes(run.recorded);
      expect(nodes.length).toBe(expectedNodes(stack).aws + expectedNodes(stack).gcp);
      for (const from of nodes) {
        for (const to of nodes.filter((n) => n !== from)) {
          const wg = admitted(run.recorded, from, to).filter((a) => a.protocol === "udp" && a.from <= WIREGUARD && WIREGUARD <= a.to);
          expect({ from: from.name, to: to.name, wireguard: wg.length > 0 }).toEqual({ from: from.name, to: to.name, wireguard: true });
        }
      }
    });

    it("opens nothing else between nodes but ICMP and the bootstrap ports towards control-plane nodes", () => {
      const nodes = underlayNodes(run.recorded);
      const offending: string[] = [];
      let judged = 0;
      for (const from of nodes) {
        for (const to of nodes.filter((n) => n !== from)) {
          for (const a of admitted(run.recorded, from, to)) {
            judged++;
            const ok =
              a.protocol === "icmp" ||
              (a.protocol === "udp" && a.from === WIREGUARD && a.to === WIREGUARD) ||
              (a.protocol === "tcp" && to.role === "control-plane" && isBootstrapPort(a.from) && isBootstrapPort(a.to));
            if (!ok) offending.push(`${a.rule}: ${a.protocol} ${a.from}-${a.to} ${from.name} -> ${to.name}`);
          }
        }
      }
      // At least WireGuard and ICMP for every ordered pair were looked at.
      expect(judged).toBeGreaterThanOrEqual(2 * nodes.length * (nodes.length - 1));
      expect(offending).toEqual([]);
    });

    it("lets the bootstrap ports reach only control-plane nodes", () => {
      const nodes = underlayNodes(run.recorded);
      const cp = nodes.find((n) => n.role === "control-plane")!;
      const workers = nodes.filter((n) => n.role === "worker");
      expect(workers.length).toBe(expectedNodes(stack).workers);
      for (const worker of workers) {
        expect(admitted(run.recorded, cp, worker).filter((a) => a.protocol === "tcp")).toEqual([]);
        expect(admitted(run.recorded, worker, cp).some((a) => a.protocol === "tcp" && a.from === 6443)).toBe(true);
      }
    });

    it("stores the PKI bundle and the join tokens in the secret stores, and keeps the kubeconfig secret", async () => {
      expect(await pulumi.isSecret(run.outputs.kubeconfig)).toBe(true);
      const versions = [
        ...ofType(run.recorded, "aws:secretsmanager/secretVersion:SecretVersion").map((s) => ({ name: s.name, value: s.inputs.secretString })),
        ...ofType(run.recorded, "gcp:secretmanager/secretVersion:SecretVersion").map((s) => ({ name: s.name, value: s.inputs.secretData })),
      ];
      const pki = versions.filter((v) => v.name.endsWith("-pki"));
      const tokens = versions.filter((v) => v.name.endsWith("-join-token"));
      expect(pki.length).toBeGreaterThan(0);
      for (const v of pki) expect(Object.keys(JSON.parse(v.value))).toEqual(expect.arrayContaining(["ca.key", "sa.key", "etcd/ca.key"]));
      // One token store per cloud with nodes: a node reads only its own cloud's store.
      expect(tokens.length).toBe(new Set(instances(run.recorded).map((i) => i.type)).size);
      for (const v of tokens) {
        const doc = JSON.parse(v.value) as { tokens: { token: string; expires: string }[] };
        expect(doc.tokens[0].token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        expect(Date.parse(doc.tokens[0].expires)).toBeGreaterThan(Date.now());
      }
    });

    it("puts no join token, private key or kubeconfig in any instance's user data", () => {
      const userData = instances(run.recorded).map(userDataOf);
      expect(userData.length).toBe(underlayNodes(run.recorded).length);
      for (const u of userData) {
        expect(u.startsWith("#cloud-config")).toBe(true);
        expect(u).not.toMatch(/PRIVATE KEY/);
        expect(u).not.toMatch(/[a-z0-9]{6}\.[a-z0-9]{16}/);
        expect(u).not.toMatch(/client-key-data|kind: Config/);
      }
      // ... and the check would see one: the token the stores hold is shaped like that.
      expect(ofType(run.recorded, "pulumi-nodejs:dynamic:Resource").find((r) => r.name.endsWith("-join-token"))!.state.token).toMatch(
        /^[a-z0-9]{6}\.[a-z0-9]{16}$/,
      );
    });

    it("publishes one node table, the DaemonSet's ConfigMap, listing every node with its role, its public address and its private one; every node's boot guard reads every node's public address from its cloud's store", () => {
      const configMap = ofType(run.recorded, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "node-router-node-table")!;
      const published = configMap.inputs.data["node-table.json"] as string;
      const table = JSON.parse(published) as { podCidrs: string[]; nodes: { name: string; role: string; addresses: string[] }[] };
      expect(table.podCidrs).toEqual([JSON.parse(stackConfig(stack)["wg-mesh-cluster:cluster"]).podCidr]);
      const nodes = underlayNodes(run.recorded);
      expect(table.nodes.map((n) => [n.name, n.role, n.addresses[0]]).sort()).toEqual(nodes.map((n) => [n.name, n.role, n.address]).sort());
      expect(table.nodes.filter((n) => n.addresses.length !== 2 || !/^10\./.test(n.addresses[1]))).toEqual([]);
      expect(instances(run.recorded).length).toBe(expectedNodes(stack).aws + expectedNodes(stack).gcp);
      // The boot guard's node addresses, stored in each cloud with nodes: every node's public address, once.
      const stored = bootGuardDocuments(run.recorded);
      expect(Object.keys(stored).sort()).toEqual(["aws", "gcp"].filter((c) => expectedNodes(stack)[c as "aws" | "gcp"] > 0));
      for (const document of Object.values(stored)) {
        expect(document.match(/ : jump to_/g)).toHaveLength(table.nodes.length);
        expect(table.nodes.filter((n) => !document.includes(` ${n.addresses[0]} : jump `))).toEqual([]);
      }
      for (const i of instances(run.recorded)) {
        const files = parseCloudConfig(userDataOf(i)).write_files;
        expect(files.find((f) => f.path === "/etc/wg-mesh/node-table.json")).toBeUndefined();
        const ruleset = files.find((f) => f.path === "/etc/wg-mesh/guard.nft")!.content;
        expect(table.nodes.filter((n) => ruleset.includes(`for node ${n.name}:`))).toHaveLength(1);
        expect(ruleset).not.toMatch(/ : jump to_/);
        // It reads them from its own cloud's store.
        const env = files.find((f) => f.path === "/etc/wg-mesh/bootstrap.env")!.content;
        const cloud = i.type.startsWith("aws:") ? "aws" : "gcp";
        expect(env).toMatch(new RegExp(`^BOOT_GUARD_${cloud.toUpperCase()}_SECRET_ID='[^']+'$`, "m"));
        expect(stored[cloud]).toBeDefined();
      }
    });

    it("gives every instance user data that passes the real cloud-init schema and shellcheck", () => {
      requireTool("cloud-init", "cloud-init");
      requireTool("shellcheck", "shellcheck");
      const userData = instances(run.recorded).map(userDataOf);
      expect(userData.length).toBeGreaterThan(0);
      for (const u of userData) {
        expect(cloudInitSchema(u)).toMatchObject({ status: 0 });
        const scripts = parseCloudConfig(u).write_files.filter((f) => f.content.startsWith("#!") || f.content.startsWith("# shellcheck shell=bash"));
        expect(scripts.length).toBe(7); // bootstrap, its four libraries, the guard, the API proxy sync
        for (const script of scripts) expect({ path: script.path, ...shellcheck(script.content) }).toEqual({ path: script.path, status: 0, output: "" });
      }
    });

    it("signs the kubeconfig's credentials with the cluster CA it also carries", async () => {
      const kubeconfig = parse(await resolve(run.outputs.kubeconfig as pulumi.Output<string>));
      expect(kubeconfig.clusters[0].cluster.server).toBe(await resolve(run.outputs.apiEndpoint as pulumi.Output<string>));
      expect(kubeconfig.clusters[0].cluster.server).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+:6443$/);
      const caPem = Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString();
      const clusterCa = ofType(run.recorded, "tls:index/selfSignedCert:SelfSignedCert").find((c) => c.name.endsWith("-pki-ca"))!;
      expect(caPem).toBe(clusterCa.state.certPem);
      const client = new X509Certificate(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64"));
      expect(client.verify(new X509Certificate(caPem).publicKey)).toBe(true);
      expect(client.subject).toContain("O=kubeadm:cluster-admins"); // bound by RBAC, so revocable; not system:masters
      expect(client.subject).not.toContain("system:masters");
    });

    platformChecks(() => run.recorded, JSON.parse(stackConfig(stack)["wg-mesh-cluster:cluster"]).podCidr);
    policyChecks(() => run.recorded);

    it("talks to Kubernetes only after the API server answers /readyz, as the cluster it identified", () => {
      const ready = run.recorded.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-api-ready"))!;
      expect(ready.inputs.url).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+:6443$/);
      const k8sProvider = ofType(run.recorded, "pulumi:providers:kubernetes")[0];
      expect(k8sProvider.dependencies).toContain(ready.urn);
      expect(k8sProvider.propertyDependencies.clusterIdentifier).toContain(ready.urn);
      expect(k8sProvider.inputs.clusterIdentifier).toBe(ready.state.clusterId);
      expect(String(k8sProvider.inputs.deleteUnreachable)).toBe("true"); // provider config arrives as strings
      // ... and the wait depends on the founder's instance alone (the only node that may init),
      expect(
        instances(run.recorded)
          .filter((i) => ready.dependencies.includes(i.urn))
          .map(nodeNameOf),
      ).toEqual([founderOf(run.recorded)]);
      expect(ready.inputs.founderId).toBe(instances(run.recorded).find((i) => nodeNameOf(i) === founderOf(run.recorded))!.id);
    });

    it("creates every other node only once the cluster accepts the current join token (no cycle: the founder waits for nothing in the cluster)", () => {
      const tokenSecret = ofType(run.recorded, "kubernetes:core/v1:Secret").find((r) => r.inputs.type === "bootstrap.kubernetes.io/token")!;
      expect(tokenSecret.inputs.metadata.name).toBe(`bootstrap-token-${tokenSecret.inputs.stringData["token-id"]}`);
      expect(Date.parse(tokenSecret.inputs.stringData.expiration)).toBeGreaterThan(Date.now());
      const others = instances(run.recorded).filter((i) => nodeNameOf(i) !== founderOf(run.recorded));
      expect(others.length).toBeGreaterThan(0);
      for (const i of others) expect({ node: nodeNameOf(i), waits: i.dependencies.includes(tokenSecret.urn) }).toEqual({ node: nodeNameOf(i), waits: true });
      const founder = instances(run.recorded).find((i) => nodeNameOf(i) === founderOf(run.recorded))!;
      expect(founder.dependencies).not.toContain(tokenSecret.urn);
      expect(dependsTransitively(run.recorded, founder, tokenSecret.urn)).toBe(false);
    });

    it("keeps every Kubernetes resource deleted with the cluster, so destroying it needs no API", () => {
      const ready = run.recorded.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name.endsWith("-api-ready"))!;
      const inCluster = run.recorded.filter((r) => r.type.startsWith("kubernetes:"));
      expect(inCluster.length).toBeGreaterThan(3);
      for (const r of inCluster) expect({ name: r.name, deletedWith: r.options.deletedWith }).toEqual({ name: r.name, deletedWith: ready.urn });
    });

    it("boots AWS nodes with their Elastic IP already on their network interface, in their zone's subnet", () => {
      const subnets = ofType(run.recorded, "aws:ec2/subnet:Subnet");
      const awsInstances = ofType(run.recorded, "aws:ec2/instance:Instance");
      expect(awsInstances.length).toBe(expectedNodes(stack).aws);
      for (const i of awsInstances) {
        const eni = primaryInterface(run.recorded, i)!;
        expect(eni).toBeDefined();
        const assoc = ofType(run.recorded, "aws:ec2/eipAssociation:EipAssociation").find((a) => a.inputs.networkInterfaceId === eni.id)!;
        expect(i.dependencies).toContain(assoc.urn);
        const zone = subnets.find((s) => s.id === eni.inputs.subnetId)!.inputs.availabilityZone;
        const pools = JSON.parse(stackConfig(stack)["wg-mesh-cluster:aws"]).pools as { name: string; zone: string }[];
        expect(zone).toBe(pools.find((p) => i.inputs.tags.Name.includes(`-aws-${p.name}-`))!.zone);
        expect(i.inputs.ami).toBe(JSON.parse(stackConfig(stack)["wg-mesh-cluster:aws"]).ami);
      }
      expect(new Set(subnets.map((s) => s.inputs.availabilityZone)).size).toBe(subnets.length);
    });

    it("enables the Google APIs it uses, and creates every GCP resource after them", () => {
      const services = ofType(run.recorded, "gcp:projects/service:Service");
      const gcpResources = run.recorded.filter((r) => r.type.startsWith("gcp:") && r.type !== "gcp:projects/service:Service");
      if (expectedNodes(stack).gcp === 0) {
        expect({ services, gcpResources }).toEqual({ services: [], gcpResources: [] });
        return;
      }
      expect(gcpResources.length).toBeGreaterThan(expectedNodes(stack).gcp);
      expect(services.map((s) => s.inputs.service).sort()).toEqual(["compute.googleapis.com", "iam.googleapis.com", "secretmanager.googleapis.com"]);
      for (const s of services) expect(s.inputs.disableOnDestroy).toBe(false);
      for (const r of gcpResources) {
        for (const s of services)
          expect({ resource: r.name, after: s.name, ok: r.dependencies.includes(s.urn) }).toEqual({ resource: r.name, after: s.name, ok: true });
      }
    });

    it("requires IMDSv2 and encrypted disks on AWS, Shielded VM on GCP", () => {
      const awsInstances = ofType(run.recorded, "aws:ec2/instance:Instance");
      const gcpInstances = ofType(run.recorded, "gcp:compute/instance:Instance");
      expect({ aws: awsInstances.length, gcp: gcpInstances.length }).toEqual({ aws: expectedNodes(stack).aws, gcp: expectedNodes(stack).gcp });
      for (const i of awsInstances) {
        expect(i.inputs.metadataOptions.httpTokens).toBe("required");
        expect(i.inputs.rootBlockDevice.encrypted).toBe(true);
      }
      for (const i of gcpInstances) {
        expect(i.inputs.shieldedInstanceConfig).toMatchObject({ enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
      }
    });
  });
}
