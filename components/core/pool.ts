// What the Cluster hands each cloud's node pool (../aws/nodePool.ts, ../gcp/nodePool.ts), and
// what a pool does the same way in either cloud: what its instances wait for. The boot files are
// the Cluster's to render (../cluster/userData.ts): a pool asks for a node's user data with
// where that node reads its secrets, and places it in its cloud's instance.
import * as pulumi from "@pulumi/pulumi";
import type { FirewallIntent } from "./firewallIntents";
import { SECRETS_BY_ROLE, type NodeSecret, type SecretRef } from "./nodeAccess";
import { isControlPlane, type NodeRole, type NodeSpec } from "./nodes";

export interface NodePoolArgs {
  /** Cluster name: prefix of the pool's cloud names and tags. */
  readonly clusterName: string;
  /** Region of the pool (its provider's region). */
  readonly region: string;
  /** The pool's nodes: the cluster's nodes in its cloud. */
  readonly nodes: readonly NodeSpec[];
  /** Every node's static public IPv4, in any cloud. */
  readonly addresses: Readonly<Record<string, pulumi.Output<string>>>;
  /** The cluster's firewall intents; the pool renders those that target its nodes. */
  readonly intents: readonly FirewallIntent[];
  /** Nodes rebuilt on this run (cluster.replaceNodes). */
  readonly rebuild: readonly string[];
  /** Control-plane PKI bundle (secret JSON); stored only if the pool has control-plane nodes. */
  readonly controlPlaneBundle: pulumi.Output<string>;
  /** The join tokens' store document (secret JSON, joinToken.ts). */
  readonly joinTokens: pulumi.Output<string>;
  /** Every node's address for the boot guard, packed (../cluster/bootstrap/bootGuard.ts bootGuardNodes): public, stored beside the join secrets for its size. */
  readonly bootGuardNodes: pulumi.Output<string>;
  /** End of the join window (RFC 3339): the node identities read their secrets until then. */
  readonly joinWindowEnds: pulumi.Output<string>;
  /** The node that may start the cluster: created without waiting for `admission`. */
  readonly founder: string;
  /** What every other node's instance waits for: the token and node table published in the cluster (ClusterOptions). */
  readonly admission?: pulumi.Input<pulumi.Resource[]>;
  /** A node's cloud-init user data, given where it reads its secrets. No credential in it (the stack tests check). */
  readonly userData: (node: NodeSpec, secrets: NodeSecrets) => pulumi.Output<string>;
  /**
   * For a node in `rebuild`: what its new instance waits for (the drain of the node), given a
   * digest of what it is rebuilt with (rebuildRequest). Absent: rebuilt nodes wait for nothing more.
   */
  readonly rebuildGate?: (node: NodeSpec, request: pulumi.Output<string>) => pulumi.Resource;
}

/**
 * A digest of what a rebuilt node's new instance is made of (image, boot files, address): it
 * changes exactly when a listed node's instance is replaced again, so its drain runs again.
 */
export function rebuildRequest(parts: pulumi.Input<string>[]): pulumi.Output<string> {
  return pulumi.all(parts).apply((values) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    return createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16);
  });
}

/** Where a node reads its join secrets, in its own cloud's store. */
export interface NodeSecrets {
  readonly pki?: SecretRef;
  readonly joinToken: SecretRef;
  readonly bootGuard: SecretRef;
}

/**
 * What a node's instance waits for besides its own cloud's prerequisites: every node but the
 * founder, the cluster accepting the current token with every node's table listing it.
 */
export function admittedAfter(args: NodePoolArgs, node: NodeSpec, prerequisites: readonly pulumi.Resource[]): pulumi.Input<pulumi.Resource>[] {
  return [...prerequisites, ...(node.name === args.founder || args.admission === undefined ? [] : [args.admission])] as pulumi.Input<pulumi.Resource>[];
}

/** A join secret in the pool's cloud store: the resource nodes wait for, and where they read it. */
export interface StoredSecret<S extends pulumi.Resource> {
  readonly secret: S;
  readonly version: pulumi.Resource;
  readonly ref: SecretRef;
}

/**
 * The pool's join secrets, each stored by its cloud's `store`: the join tokens and the boot guard's
 * node addresses always, the PKI bundle (CA keys) only in a pool with control planes. Each node reads what its role may
 * (../core/nodeAccess.ts SECRETS_BY_ROLE).
 */
export class JoinSecrets<S extends pulumi.Resource> {
  readonly joinToken: StoredSecret<S>;
  readonly bootGuard: StoredSecret<S>;
  readonly pki?: StoredSecret<S>;

  constructor(args: NodePoolArgs, store: (kind: NodeSecret, value: pulumi.Output<string>) => StoredSecret<S>) {
    this.joinToken = store("join-token", args.joinTokens);
    this.bootGuard = store("boot-guard", args.bootGuardNodes);
    if (args.nodes.some(isControlPlane)) this.pki = store("pki", args.controlPlaneBundle);
  }

  /** The secrets a role reads, in SECRETS_BY_ROLE's order. */
  ofRole(role: NodeRole): StoredSecret<S>[] {
    const byKind: Record<NodeSecret, StoredSecret<S> | undefined> = { pki: this.pki, "join-token": this.joinToken, "boot-guard": this.bootGuard };
    return SECRETS_BY_ROLE[role].map((kind) => byKind[kind]!);
  }

  /** Where a node reads its secrets (its user data carries these references, never the values). */
  forNode(node: NodeSpec): NodeSecrets {
    return { pki: isControlPlane(node) ? this.pki!.ref : undefined, joinToken: this.joinToken.ref, bootGuard: this.bootGuard.ref };
  }
}

/** What a pool reports of its instances, the same in either cloud. */
export class PoolInstances<I extends pulumi.CustomResource> {
  /** Instance id per node name. */
  readonly ids: Record<string, pulumi.Output<string>> = {};
  /** Instance ids of the control planes (what tells a new cluster from a surviving one). */
  readonly controlPlaneIds: pulumi.Output<string>[] = [];
  /** The founder's instance, if it is in this pool (what the API readiness waits for). */
  founder?: I;

  constructor(private readonly founderName: string) {}

  add(node: NodeSpec, instance: I): void {
    this.ids[node.name] = instance.id;
    if (isControlPlane(node)) this.controlPlaneIds.push(instance.id);
    if (node.name === this.founderName) this.founder = instance;
  }
}
