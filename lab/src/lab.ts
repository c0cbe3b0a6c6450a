// The lab as one object: builds the topology, WireGuard, the emulated Cilium datapath, the API
// stand-in and the helpers, and runs the agents; faults.ts plays the faults on it (kill a
// device, a node joins or leaves, a key changes). Every step undoes cleanly through destroy().
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentProcess, bootGuard, labGuardArgs, renderGuard, writeKubeconfig } from "./agents";
import { LabCgroups } from "./cgroups";
import { agentHasFlag } from "./features";
import { Outside } from "./outside";
import { ApiServerProcess } from "./apiserverProcess";
import { Capture } from "./capture";
import { waitFor } from "./exec";
import { bootGuardNodes } from "../../components/cluster/bootstrap/bootGuard";
import { ECHO_PORT, NODE_PORTS } from "./flows";
import { NsHelper } from "./helperProcess";
import { installPodRule, syncPeers } from "./datapath";
import { addPrivateAddresses, cleanupLeftovers, createNodeNamespaces, createUnderlay, destroyRun } from "./netns";
import { ciliumNodeObject, nodeObject } from "./objects";
import { makeRunId, planLab, type LabPlan, type NodePlan } from "./plan";
import { TableDir } from "./tableDir";
import { generateKeyPair, wgConfig, type KeyPair } from "./wgconfig";
import { WireGuardDevice } from "./wireguard";

export interface LabOptions {
  nodes?: number;
  wgMark?: number;
  /** As a cluster built by the program: a node table, the guard applied at each node's boot,
   * agents run with --node-table. false: no table (identity from the API, no guard). Default true. */
  nodeTable?: boolean;
  /** Every address of a node, as on a cloud VM: a second, private IPv4 address on the underlay
   * interface (listed in the table) and IPv6 on it (link-local only). Default false. */
  privateAddresses?: boolean;
  /** The agents' --leave-grace-seconds (default 2: long enough to see, short enough to test). */
  leaveGraceSeconds?: number;
  log?: (line: string) => void;
}

let runCounter = 0;

export class Lab {
  readonly plan: LabPlan;
  readonly dir: string;
  readonly capture: Capture;
  readonly api: ApiServerProcess;
  /** Nodes currently in the cluster (the plan's, plus joined, minus left). */
  nodes: NodePlan[];
  readonly helpers = new Map<string, NsHelper>();
  readonly wg = new Map<string, WireGuardDevice>();
  readonly agents = new Map<string, AgentProcess>();
  /** Each node's current key pair, and the public key the cluster has published for it. */
  readonly keys = new Map<string, KeyPair>();
  readonly publishedKey = new Map<string, string>();
  private kubeconfig = "";
  private readonly log: (line: string) => void;
  /** The node table (kubelet-style directory) and the nodes it lists, when the lab has one. */
  readonly table?: TableDir;
  readonly leaveGraceSeconds: number;
  readonly privateAddresses: boolean;
  /** The run's level-1 cgroups: "system" stands in for system.slice (the guard's metadata allowlist). */
  readonly cgroups: LabCgroups;
  /** Metadata, DNS and internet stand-ins in the underlay namespace, once startOutside() ran. */
  outside?: Outside;

  private constructor(o: LabOptions) {
    this.plan = planLab({ id: makeRunId(process.pid, runCounter++), nodes: o.nodes ?? 3, wgMark: o.wgMark });
    this.nodes = [...this.plan.nodes];
    this.dir = mkdtempSync(join(tmpdir(), `${this.plan.id}-`));
    this.capture = new Capture(this.plan.underlayNs, this.dir);
    this.api = new ApiServerProcess(this.nodes[0].ns, `${this.plan.apiServer.host}:${this.plan.apiServer.port}`, this.dir);
    this.log = o.log ?? (() => undefined);
    this.table = o.nodeTable === false ? undefined : new TableDir(join(this.dir, "node-table"), [...this.nodes], o.privateAddresses ?? false);
    this.privateAddresses = o.privateAddresses ?? false;
    this.leaveGraceSeconds = o.leaveGraceSeconds ?? 2;
    this.cgroups = new LabCgroups(this.plan.id);
  }

  /** Settings every guard loader of this lab gets (boot step, agents): the lab's metadata allowlist. */
  get guardArgs(): string[] {
    return labGuardArgs(this.cgroups.get("system").name);
  }

  /** A node's boot files (/etc/wg-mesh: the table and ruleset as the program wrote them at its creation). */
  bootDir(n: NodePlan): string {
    return join(this.dir, `${n.ns}-etc`);
  }

  /** A node's agent state directory (/var/lib/wg-mesh: the persisted table and ruleset). */
  stateDir(n: NodePlan): string {
    return join(this.dir, `${n.ns}-state`);
  }

  /** Starts the outside stand-ins (metadata 169.254.169.254, DNS, internet) and routes every node to them. */
  async startOutside(): Promise<Outside> {
    this.outside ??= new Outside(this.plan);
    await this.outside.start(this.nodes);
    return this.outside;
  }

  /** Builds everything but the agents; on any failure, tears down what was built and rethrows. */
  static async create(o: LabOptions = {}): Promise<Lab> {
    cleanupLeftovers();
    const lab = new Lab(o);
    try {
      await lab.build();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  get controlPlane(): NodePlan {
    return this.nodes[0];
  }

  node(name: string): NodePlan {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in the lab (have ${this.nodes.map((x) => x.name).join(", ")})`);
    return n;
  }

  helper(ns: string): NsHelper {
    const h = this.helpers.get(ns);
    if (!h) throw new Error(`no helper in namespace ${ns}`);
    return h;
  }

  private async build(): Promise<void> {
    this.log(`building lab ${this.plan.id}: ${this.nodes.length} nodes, WireGuard mark 0x${this.plan.wgMark.toString(16)}`);
    createUnderlay(this.plan);
    this.table?.publish();
    await this.capture.start();
    for (const n of this.nodes) await this.bringUpNode(n);
    for (const n of this.nodes) this.wireNode(n);
    await this.api.start();
    for (const n of this.nodes) await this.publish(n);
    this.kubeconfig = writeKubeconfig(this.dir, `http://${this.plan.apiServer.host}:${this.plan.apiServer.port}`);
    await this.warmUp();
  }

  /**
   * Establishes every WireGuard session once, one initiator at a time, as a long-running cluster
   * has them: two peers starting a handshake towards each other in the same instant wait for a
   * 5 s retry, which would make first probes flaky.
   */
  async warmUp(nodes = this.nodes): Promise<void> {
    for (const [i, from] of nodes.entries()) {
      const later = nodes.slice(i + 1);
      if (later.length === 0) continue;
      await this.helper(from.podNs).probes(later.map((to) => ({ host: to.podIp, port: ECHO_PORT, timeoutMs: 8000 })));
    }
  }

  /** Namespaces, WireGuard device (keys, no peers yet) and helpers of one node (at build, and when one joins: faults.ts). */
  async bringUpNode(n: NodePlan): Promise<void> {
    createNodeNamespaces(this.plan, n);
    if (this.privateAddresses) addPrivateAddresses(n);
    mkdirSync(this.stateDir(n), { recursive: true });
    if (this.table) {
      // The boot files freeze the table as it is at the instance's creation (outside.ts routes come
      // later), in the program's two parts: this node's ruleset without node addresses (the agent's
      // rendering of a table holding only this node), and every node's address as the store holds them.
      mkdirSync(this.bootDir(n), { recursive: true });
      const bootTable = join(this.bootDir(n), "node-table.json");
      copyFileSync(this.table.file, bootTable);
      const table = JSON.parse(readFileSync(bootTable, "utf8")) as { podCidrs: string[]; nodes: { name: string }[] };
      const selfTable = join(this.bootDir(n), "self-table.json");
      writeFileSync(selfTable, JSON.stringify({ ...table, nodes: table.nodes.filter((m) => m.name === n.name) }));
      writeFileSync(join(this.bootDir(n), "guard.nft"), renderGuard(n, selfTable, this.guardArgs));
      writeFileSync(join(this.bootDir(n), "guard-nodes.nft"), bootGuardNodes(readFileSync(bootTable, "utf8"), {}));
      bootGuard(n, this.table.file, this.guardArgs);
    }
    this.outside?.route(n);
    const keys = generateKeyPair();
    this.keys.set(n.name, keys);
    this.publishedKey.set(n.name, keys.publicKey);
    const wg = new WireGuardDevice(n.ns, this.dir);
    this.wg.set(n.name, wg);
    await wg.start();
    installPodRule(n);
    // The API stand-in owns 6443 on the control plane.
    const nodeHelper = new NsHelper(n.ns, this.dir, n.controlPlane ? NODE_PORTS.filter((p) => p !== 6443) : NODE_PORTS);
    const podHelper = new NsHelper(n.podNs, this.dir, [ECHO_PORT]);
    this.helpers.set(n.ns, nodeHelper);
    this.helpers.set(n.podNs, podHelper);
    await Promise.all([nodeHelper.start(), podHelper.start()]);
  }

  /** What Cilium does for a node: WireGuard peers from published keys, then pod and native routes. */
  wireNode(n: NodePlan, without: readonly NodePlan[] = []): void {
    const remotes = this.nodes.filter((r) => r !== n && !without.includes(r));
    this.wg.get(n.name)!.configure(
      wgConfig({
        privateKey: this.keys.get(n.name)!.privateKey,
        fwmark: this.plan.wgMark,
        peers: remotes.map((r) => ({ node: r, publicKey: this.publishedKey.get(r.name)! })),
      }),
    );
    syncPeers(n, remotes, true);
  }

  /** The node's Node and CiliumNode objects (with its published WireGuard key) into the API. */
  async publish(n: NodePlan): Promise<void> {
    await this.api.put("nodes", nodeObject(n));
    await this.api.put("ciliumnodes", ciliumNodeObject(n, this.publishedKey.get(n.name)!));
  }

  async startAgents(nodes = this.nodes): Promise<void> {
    for (const n of nodes) {
      let agent = this.agents.get(n.name);
      if (!agent) {
        const args = [
          ...(this.table ? ["--node-table", this.table.file] : []),
          "--leave-grace-seconds",
          String(this.leaveGraceSeconds),
          ...this.agentFileArgs(n),
          ...this.guardArgs,
        ];
        agent = new AgentProcess(n, this.kubeconfig, this.dir, this.helper(n.ns), args);
        this.agents.set(n.name, agent);
      }
      agent.start();
    }
    await this.waitAgentsReady(nodes);
  }

  /** The agent's persisted state and boot table, when the built agent has those settings. */
  private agentFileArgs(n: NodePlan): string[] {
    if (!this.table) return [];
    return [
      ...(agentHasFlag("state-dir") ? ["--state-dir", this.stateDir(n)] : []),
      ...(agentHasFlag("boot-node-table") ? ["--boot-node-table", join(this.bootDir(n), "node-table.json")] : []),
    ];
  }

  async waitAgentsReady(nodes = this.nodes, timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      nodes.map((n) => waitFor(`agent on ${n.name} ready (log: ${this.agents.get(n.name)?.logFile})`, () => this.agents.get(n.name)!.ready(), timeoutMs, 100)),
    );
  }

  agent(name: string): AgentProcess {
    const a = this.agents.get(name);
    if (!a) throw new Error(`no agent for ${name}`);
    return a;
  }

  /** Stops everything and removes every namespace and file of this run. Never throws. */
  async destroy(): Promise<void> {
    const quietly = async (f: () => Promise<unknown> | unknown) => {
      try {
        await f();
      } catch {
        // best effort: the namespace deletion below removes whatever is left
      }
    };
    for (const a of this.agents.values()) await quietly(async () => (await a.kill(), a.close()));
    for (const h of this.helpers.values()) await quietly(() => h.stop());
    for (const w of this.wg.values()) await quietly(() => w.stop());
    await quietly(() => this.api.stop());
    await quietly(() => this.outside?.stop());
    await quietly(() => this.capture.stop());
    destroyRun(this.plan.id);
    this.cgroups.removeAll();
    if (!process.env.NRLAB_KEEP_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }
}
