// Where the API server is and how to talk to it: in-cluster (service-account token, CA file,
// KUBERNETES_SERVICE_HOST/PORT) or a kubeconfig file (out of cluster: the lab, a developer).
// Only what a list/watch client needs; anything else in a kubeconfig (exec plugins, auth
// providers, proxies) is refused with an error that names the field.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeTarget {
  /** https://host:port or, only with insecure-skip-tls-verify, http://host:port. */
  server: URL;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** False only when the kubeconfig says insecure-skip-tls-verify: true. */
  verifyTls: boolean;
  tlsServerName?: string;
  /** Bearer token for the next request. Read again for every request: kubelet rotates the file. */
  token?: () => Promise<string | undefined>;
  /** Basic auth, for kubeconfigs that use it. */
  basic?: { username: string; password: string };
}

/** What main.ts hands to startInformers; resolved there (YAML is loaded only when needed). */
export type KubeConfigSource = { kind: "in-cluster" } | { kind: "file"; path: string };

export class KubeConfigError extends Error {}

const tokenFrom = (file: string) => async () => (await readFile(file, "utf8")).trim();

export function inClusterTarget(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeConfigError(
      "in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (set by kubelet); outside a cluster pass --kubeconfig",
    );
  }
  const server = new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`);
  let ca: Buffer;
  try {
    ca = readFileSync(`${dir}/ca.crt`);
    readFileSync(`${dir}/token`); // fail now, with the path, rather than on the first request
  } catch (e) {
    throw new KubeConfigError(`in-cluster config: ${(e as Error).message} (is automountServiceAccountToken disabled?)`);
  }
  return { server, ca, verifyTls: true, token: tokenFrom(`${dir}/token`) };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function named(list: unknown, name: unknown, what: string, file: string): Json {
  const entry = Array.isArray(list) ? list.find((e) => isObject(e) && e.name === name) : undefined;
  if (!isObject(entry)) throw new KubeConfigError(`kubeconfig ${file}: no ${what} named ${JSON.stringify(name)}`);
  return entry;
}

/** Parses a kubeconfig (YAML or JSON) and resolves its current context. */
export async function kubeconfigTarget(path: string): Promise<KubeTarget> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KubeConfigError(`--kubeconfig/KUBECONFIG: cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    // JSON is YAML; the YAML parser (~10 MB once loaded) is only loaded when the file is not JSON.
    doc = text.trimStart().startsWith("{") ? JSON.parse(text) : (await import("yaml")).parse(text);
  } catch (e) {
    throw new KubeConfigError(`kubeconfig ${path}: not YAML or JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new KubeConfigError(`kubeconfig ${path}: not a mapping`);
  return targetFromKubeconfig(doc, path);
}

export function targetFromKubeconfig(doc: Json, path: string): KubeTarget {
  const base = dirname(resolve(path));
  const context = named(doc.contexts, doc["current-context"], "context (current-context)", path).context;
  if (!isObject(context)) throw new KubeConfigError(`kubeconfig ${path}: current context has no "context" mapping`);
  const cluster = named(doc.clusters, context.cluster, "cluster", path).cluster;
  const user = context.user === undefined ? {} : (named(doc.users, context.user, "user", path).user ?? {});
  if (!isObject(cluster) || !isObject(user)) throw new KubeConfigError(`kubeconfig ${path}: cluster or user entry is not a mapping`);

  const field = (obj: Json, key: string, where: string): string | undefined => {
    const v = obj[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new KubeConfigError(`kubeconfig ${path}: ${where}.${key} must be a string`);
    return v;
  };
  const bytes = (obj: Json, key: string, where: string): Buffer | undefined => {
    const inline = field(obj, `${key}-data`, where);
    if (inline) return Buffer.from(inline, "base64");
    const file = field(obj, key, where);
    if (!file) return undefined;
    try {
      return readFileSync(resolve(base, file));
    } catch (e) {
      throw new KubeConfigError(`kubeconfig ${path}: ${where}.${key}: ${(e as Error).message}`);
    }
  };
  for (const unsupported of ["exec", "auth-provider", "as", "as-groups"]) {
    if (user[unsupported] !== undefined) {
      throw new KubeConfigError(
        `kubeconfig ${path}: users[].user.${unsupported} is not supported by node-router; use a token, tokenFile or client certificate`,
      );
    }
  }
  if (cluster["proxy-url"] !== undefined) throw new KubeConfigError(`kubeconfig ${path}: clusters[].cluster.proxy-url is not supported by node-router`);

  const serverText = field(cluster, "server", "clusters[].cluster");
  if (!serverText) throw new KubeConfigError(`kubeconfig ${path}: clusters[].cluster.server is missing`);
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw new KubeConfigError(`kubeconfig ${path}: clusters[].cluster.server ${JSON.stringify(serverText)} is not a URL`);
  }
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  if (server.protocol !== "https:" && !(server.protocol === "http:" && insecure)) {
    throw new KubeConfigError(`kubeconfig ${path}: clusters[].cluster.server must be https:// (plain http:// only with insecure-skip-tls-verify: true)`);
  }
  const token = field(user, "token", "users[].user");
  const tokenFile = field(user, "tokenFile", "users[].user");
  const username = field(user, "username", "users[].user");
  return {
    server,
    ca: bytes(cluster, "certificate-authority", "clusters[].cluster"),
    cert: bytes(user, "client-certificate", "users[].user"),
    key: bytes(user, "client-key", "users[].user"),
    verifyTls: !insecure,
    tlsServerName: field(cluster, "tls-server-name", "clusters[].cluster"),
    token: token ? async () => token : tokenFile ? tokenFrom(resolve(base, tokenFile)) : undefined,
    basic: username ? { username, password: field(user, "password", "users[].user") ?? "" } : undefined,
  };
}

export function resolveTarget(source: KubeConfigSource): Promise<KubeTarget> {
  return source.kind === "file" ? kubeconfigTarget(source.path) : Promise.resolve(inClusterTarget());
}
