// Pure: the flow classes of the leak matrix, and which captured packet belongs to which flow.
import type { Packet } from "./capture";
import { isExemptTcp, type NodePlan } from "./plan";

/** Port of the plain TCP echo every node and pod serves for the generic flows. */
export const ECHO_PORT = 5000;
/** Ports node namespaces serve besides the echo port (the control plane's 6443 is the API stand-in). */
export const NODE_PORTS = [ECHO_PORT, 2379, 10250, 6443];

export type FlowClass =
  | "pod->remote-pod"
  | "pod->remote-node"
  | "node->remote-node"
  | "node->remote-pod"
  | "worker->cp:6443"
  | "worker->cp:2379"
  | "cp->worker:10250"
  | "worker->worker:6443";

export const FLOW_CLASSES: FlowClass[] = [
  "pod->remote-pod",
  "pod->remote-node",
  "node->remote-node",
  "node->remote-pod",
  "worker->cp:6443",
  "worker->cp:2379",
  "cp->worker:10250",
  "worker->worker:6443",
];

export interface Flow {
  cls: FlowClass;
  from: NodePlan;
  to: NodePlan;
  /** Namespace the client runs in. */
  clientNs: string;
  srcIp: string;
  dstIp: string;
  port: number;
  /** Cleartext the design allows: TCP to a control-plane node's exempt port. */
  exempt: boolean;
}

/** Every flow for every ordered pair of distinct nodes (classes that do not apply are skipped). */
export function planFlows(nodes: NodePlan[]): Flow[] {
  const flows: Flow[] = [];
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      const add = (cls: FlowClass, fromPod: boolean, toPod: boolean, port: number) => {
        const srcIp = fromPod ? from.podIp : from.underlayIp;
        const dstIp = toPod ? to.podIp : to.underlayIp;
        flows.push({
          cls,
          from,
          to,
          clientNs: fromPod ? from.podNs : from.ns,
          srcIp,
          dstIp,
          port,
          exempt: isExemptTcp({ nodes }, { proto: "tcp", src: srcIp, dst: dstIp, dport: port }),
        });
      };
      add("pod->remote-pod", true, true, ECHO_PORT);
      add("pod->remote-node", true, false, ECHO_PORT);
      add("node->remote-node", false, false, ECHO_PORT);
      add("node->remote-pod", false, true, ECHO_PORT);
      if (!from.controlPlane && to.controlPlane) {
        add("worker->cp:6443", false, false, 6443);
        add("worker->cp:2379", false, false, 2379);
      }
      if (from.controlPlane && !to.controlPlane) add("cp->worker:10250", false, false, 10250);
      if (!from.controlPlane && !to.controlPlane) add("worker->worker:6443", false, false, 6443);
    }
  }
  return flows;
}

/**
 * Does this packet (either direction) belong to the flow? Matches addresses and server port, and
 * the client port when known (so the agents' own API traffic is not counted as the 6443 probe).
 */
export function packetOfFlow(p: Packet, f: Flow, clientPort?: number): boolean {
  if (p.proto !== "tcp") return false;
  const forward = p.src === f.srcIp && p.dst === f.dstIp && p.dport === f.port && (clientPort === undefined || p.sport === clientPort);
  const reply = p.src === f.dstIp && p.dst === f.srcIp && p.sport === f.port && (clientPort === undefined || p.dport === clientPort);
  return forward || reply;
}

/** Cleartext packets outside the exemption: the number every fault test requires to be zero. */
export function leaks(packets: Packet[], nodes: NodePlan[]): Packet[] {
  return packets.filter((p) => !isExemptTcp({ nodes }, p));
}
