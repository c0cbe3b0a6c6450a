// The kubeadm join token: made by the program, never written into user data. It lives in
// the clouds' secret stores (read at boot through each node's own identity), in Pulumi state
// as a secret, and in the cluster as a `bootstrap.kubernetes.io/token` Secret with an
// expiration. `pulumi up` issues a fresh token once less than half of the current one's
// lifetime is left; the previous token stays in the stores while it is still valid, so a node
// that boots while a new token is being published can still join (boot script, jointoken.sh).
// Rotating changes no instance: user data only names the secret.
import * as pulumi from "@pulumi/pulumi";
import { randomInt } from "node:crypto";

/** One token with its absolute expiry. */
export interface TokenEntry {
  /** The kubeadm join token, `<id>.<secret>`. */
  readonly token: string;
  /** When it stops being valid (RFC 3339, UTC, seconds). */
  readonly expires: string;
}

export interface JoinTokenState extends TokenEntry {
  /** The public half (`[a-z0-9]{6}`): the in-cluster Secret is `bootstrap-token-<id>`. */
  readonly tokenId: string;
  readonly ttlHours: number;
  /** The token this one replaced, while it is still valid. */
  readonly previous?: TokenEntry;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** kubeadm's token format. */
export const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

const part = (length: number, pick: (n: number) => number) => Array.from({ length }, () => ALPHABET[pick(ALPHABET.length)]).join("");

/** A new `<id>.<secret>` from a cryptographic random source. */
export function newToken(pick: (n: number) => number = randomInt): string {
  return `${part(6, pick)}.${part(16, pick)}`;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Whether `olds` must give way to a new token at `now`: a changed TTL, or less than half left. */
export function needsRotation(olds: Partial<JoinTokenState>, ttlHours: number, now: Date): boolean {
  if (olds.ttlHours !== ttlHours) return true;
  const expires = olds.expires === undefined ? NaN : Date.parse(olds.expires);
  if (!Number.isFinite(expires)) return true;
  return expires - now.getTime() < (ttlHours * 3_600_000) / 2;
}

/** A fresh token valid for `ttlHours` from `now`, keeping `olds` as previous while it is valid. */
export function issue(olds: Partial<JoinTokenState> | undefined, ttlHours: number, now: Date, pick?: (n: number) => number): JoinTokenState {
  const token = newToken(pick);
  const previousValid = olds?.token !== undefined && olds.expires !== undefined && Date.parse(olds.expires) > now.getTime();
  return {
    token,
    tokenId: token.slice(0, 6),
    expires: rfc3339(now.getTime() + ttlHours * 3_600_000),
    ttlHours,
    ...(previousValid ? { previous: { token: olds.token!, expires: olds.expires! } } : {}),
  };
}

/** What the secret stores hold: `{"tokens": [current, previous?]}`, newest first. */
export function storeDocument(s: Pick<JoinTokenState, "token" | "expires" | "previous">): string {
  return JSON.stringify({ tokens: [{ token: s.token, expires: s.expires }, ...(s.previous ? [s.previous] : [])] });
}

/** The group kubeadm's join flow and its RBAC (CSR creation and auto-approval) expect. */
export const JOIN_GROUP = "system:bootstrappers:kubeadm:default-node-token";

/** The `bootstrap.kubernetes.io/token` Secret that makes the token valid in the cluster. */
export function bootstrapTokenSecret(s: Pick<JoinTokenState, "token" | "expires">) {
  const [id, secret] = s.token.split(".");
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: {
      name: `bootstrap-token-${id}`,
      namespace: "kube-system",
      labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "wg-mesh" },
      // On the first run `kubeadm init` has already created this Secret from the same token:
      // server-side apply takes it over (fields it set with other values are forced).
      annotations: { "pulumi.com/patchForce": "true" },
    },
    type: "bootstrap.kubernetes.io/token",
    stringData: {
      "token-id": id,
      "token-secret": secret,
      expiration: s.expires,
      "usage-bootstrap-authentication": "true",
      "usage-bootstrap-signing": "true",
      "auth-extra-groups": JOIN_GROUP,
      description: "wg-mesh node join token (managed by Pulumi, rotated by pulumi up)",
    },
  };
}

interface JoinTokenInputs {
  readonly ttlHours: number;
}

/** The dynamic provider's diff, pure: a new token when due, never a replacement. */
export function joinTokenDiff(olds: Partial<JoinTokenState>, news: JoinTokenInputs, now: Date): { changes: boolean } {
  return { changes: needsRotation(olds, news.ttlHours, now) };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: JoinTokenInputs) {
    return { id: "join-token", outs: issue(undefined, inputs.ttlHours, new Date()) };
  },
  async diff(_id: string, olds: JoinTokenState, news: JoinTokenInputs) {
    return joinTokenDiff(olds, news, new Date());
  },
  async update(_id: string, olds: JoinTokenState, news: JoinTokenInputs) {
    return { outs: issue(olds, news.ttlHours, new Date()) };
  },
};

/** The credential-bearing outputs, secret in state from the moment they exist. */
export const JOIN_TOKEN_SECRET_OUTPUTS = ["token", "previous"];

export interface JoinTokenArgs {
  /** Hours a token is valid (cluster.joinTokenTtlHours). */
  readonly ttlHours: number;
}

export class JoinToken extends pulumi.dynamic.Resource {
  declare public readonly token: pulumi.Output<string>;
  declare public readonly tokenId: pulumi.Output<string>;
  declare public readonly expires: pulumi.Output<string>;
  declare public readonly previous: pulumi.Output<TokenEntry | undefined>;

  constructor(name: string, args: JoinTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { ttlHours: args.ttlHours, token: undefined, tokenId: undefined, expires: undefined, previous: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: JOIN_TOKEN_SECRET_OUTPUTS }),
    );
  }

  /** The stores' document (secret). */
  storeDocument(): pulumi.Output<string> {
    return pulumi.secret(
      pulumi.all([this.token, this.expires, this.previous]).apply(([token, expires, previous]) => storeDocument({ token, expires, previous })),
    );
  }
}
