// Can the nodes pull the agent image? They have no registry credentials (unless
// nodeRouter.imagePullSecrets gives the DaemonSet some; the boot-time guard has none), so the
// question is whether an anonymous client may: the OCI distribution API as containerd asks
// it, HEAD the manifest by digest, and on 401 fetch an anonymous token from the realm the
// `WWW-Authenticate: Bearer` challenge names and ask again. GHCR makes new packages private,
// which otherwise shows only as a 30-minute readiness timeout.

export interface ImageRef {
  /** Registry host[:port] as the API is addressed (docker.io is registry-1.docker.io). */
  readonly registry: string;
  readonly repository: string;
  /** `sha256:<hex>` */
  readonly digest: string;
}

/** Splits `<registry>/<repo>@sha256:<hex>` as containerd does (no registry = Docker Hub). */
export function parseImageRef(image: string): ImageRef | undefined {
  const m = /^(.+)@(sha256:[0-9a-f]{64})$/.exec(image);
  if (!m) return undefined;
  const parts = m[1].split("/");
  const hasRegistry = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
  let registry = hasRegistry ? parts.shift()! : "docker.io";
  if (registry === "docker.io") {
    registry = "registry-1.docker.io";
    if (parts.length === 1) parts.unshift("library");
  }
  return { registry, repository: parts.join("/"), digest: m[2] };
}

export type PullCheck =
  | { readonly kind: "pullable" }
  /** The registry answered and an anonymous client may not have it. */
  | { readonly kind: "denied"; readonly status: number; readonly detail: string }
  /** No answer (DNS, connection, TLS, timeout): the nodes may well see more than this machine. */
  | { readonly kind: "unreachable"; readonly detail: string };

export interface RegistryClientOptions {
  /** Test-only: the local registry stand-in speaks plain HTTP. Production is always https. */
  readonly scheme?: "https" | "http";
  readonly timeoutMs?: number;
}

/** Parses `Bearer realm="...",service="...",scope="..."` into its parameters. */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
  return params.realm ? params : undefined;
}

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Whether an anonymous client can fetch the image's manifest by digest. */
export async function checkAnonymousPull(image: string, o: RegistryClientOptions = {}): Promise<PullCheck> {
  const ref = parseImageRef(image);
  if (!ref) return { kind: "denied", status: 0, detail: `"${image}" is not <registry>/<repo>@sha256:<digest>` };
  const scheme = o.scheme ?? "https";
  const timeoutMs = o.timeoutMs ?? 10_000;
  const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${ref.digest}`;
  const head = (token?: string) =>
    fetch(url, {
      method: "HEAD",
      headers: { accept: ACCEPT, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  try {
    let res = await head();
    if (res.status === 401) {
      const challenge = parseBearerChallenge(res.headers.get("www-authenticate"));
      if (!challenge) return { kind: "denied", status: 401, detail: "the registry wants credentials and offers no anonymous token" };
      const tokenUrl = new URL(challenge.realm);
      if (challenge.service) tokenUrl.searchParams.set("service", challenge.service);
      tokenUrl.searchParams.set("scope", challenge.scope ?? `repository:${ref.repository}:pull`);
      const t = await fetch(tokenUrl, { signal: AbortSignal.timeout(timeoutMs) });
      if (!t.ok)
        return {
          kind: "denied",
          status: t.status,
          detail: `the token endpoint ${tokenUrl.origin}${tokenUrl.pathname} refused an anonymous token (HTTP ${t.status})`,
        };
      const body = (await t.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) return { kind: "denied", status: 401, detail: "the token endpoint gave no token" };
      res = await head(token);
    }
    if (res.ok) return { kind: "pullable" };
    const reason = res.status === 404 ? "no such manifest for an anonymous client (a private package answers 404 or 401 alike)" : `HTTP ${res.status}`;
    return { kind: "denied", status: res.status, detail: reason };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    return { kind: "unreachable", detail: err.cause?.code ?? err.cause?.message ?? err.message };
  }
}

/** The refusal or warning for a check's outcome; `key` is the full stack key of the image. */
export function pullCheckMessage(check: PullCheck, image: string, key: string): { problem?: string; warning?: string } {
  switch (check.kind) {
    case "pullable":
      return {};
    case "denied":
      return {
        problem: `${key}: ${image} is not pullable anonymously (${check.detail}), and the nodes pull it without credentials at boot; make the package public (GitHub: the package's settings, "Change visibility") or set \`nodeRouter.imagePullSecrets\`, or skip this check with preflight.skip: [imagePull]`,
      };
    case "unreachable":
      return {
        warning: `${key}: could not ask the registry whether ${image} is pullable anonymously (${check.detail}); not refused, since the nodes may reach it; if they cannot, the nodes never start (the boot-time guard runs that image)`,
      };
  }
}
