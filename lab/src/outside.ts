// The world outside the cluster, in the underlay namespace: the bridge becomes the nodes'
// default gateway (198.51.100.1) and holds the instance metadata address (169.254.169.254) and
// an "internet" address (44.0.0.80); lab/scripts/outside.py serves HTTP on 80 (a fake
// credential) and DNS on 53 there. Nodes get a default route, pods' addresses a return route.
// Traffic to these addresses is not node-to-node: the leak count leaves it out.
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { PYTHON } from "./attack";
import { ipIn, repoRoot, spawnInNs, stopChild, waitFor } from "./exec";
import { IFACE, type LabPlan, type NodePlan } from "./plan";

export const GATEWAY = "198.51.100.1";
export const METADATA = "169.254.169.254";
/** An "internet" host inside 0.0.0.0/1, so a table claiming that pod CIDR would cut it off. */
export const INTERNET = "44.0.0.80";
export const OUTSIDE_ADDRESSES = [GATEWAY, METADATA, INTERNET];

export class Outside {
  private child?: ChildProcess;
  private output = "";

  constructor(private readonly plan: LabPlan) {}

  async start(nodes: NodePlan[]): Promise<void> {
    const ul = this.plan.underlayNs;
    ipIn(ul, `addr add ${GATEWAY}/24 dev ${this.plan.bridge}`);
    ipIn(ul, `addr add ${METADATA}/32 dev ${this.plan.bridge}`);
    ipIn(ul, `addr add ${INTERNET}/32 dev ${this.plan.bridge}`);
    for (const n of nodes) this.route(n);
    const child = spawnInNs(ul, [PYTHON, join(repoRoot(__dirname), "lab", "scripts", "outside.py")]);
    this.child = child;
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      "the outside stand-in (metadata, DNS, internet)",
      () => {
        if (child.exitCode !== null) throw new Error(`outside.py exited: ${this.output}`);
        return this.output.includes("ready");
      },
      10_000,
      50,
    );
  }

  /** A node's routes out (metadata on-link, as on a cloud VM; default via the gateway) and its pods' way back. */
  route(n: NodePlan): void {
    ipIn(n.ns, `route replace ${METADATA}/32 dev ${IFACE.underlay} scope link`);
    ipIn(n.ns, `route replace default via ${GATEWAY} dev ${IFACE.underlay}`);
    ipIn(this.plan.underlayNs, `route replace ${n.podCidr} via ${n.underlayIp}`);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL");
  }
}
