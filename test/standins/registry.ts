// A container registry stand-in on 127.0.0.1 speaking the OCI distribution API as GHCR does to
// an anonymous client: every manifest request without a token gets 401 and a Bearer
// challenge; the token endpoint hands anyone a token; with it, a public repository's manifest
// answers 200 and a private one's 401 (GHCR's "denied") or 404.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const DIGEST = `sha256:${"ab".repeat(32)}`;

export interface RegistryStandIn {
  readonly server: Server;
  /** host:port, as an image reference names the registry. */
  readonly host: string;
  /** Every request's method and path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** `repos` maps a repository to what an anonymous token gets for its manifest. */
export async function startRegistry(repos: Record<string, 200 | 401 | 403 | 404>): Promise<RegistryStandIn> {
  const requests: string[] = [];
  let host = "";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${host}`);
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname === "/token") {
      const repo = /^repository:(.+):pull$/.exec(url.searchParams.get("scope") ?? "")?.[1];
      if (!repo || url.searchParams.get("service") !== "standin") return void res.writeHead(400).end();
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `anon:${repo}` }));
    }
    const m = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, repo, digest] = m;
    if (req.headers.authorization !== `Bearer anon:${repo}`) {
      return void res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="standin",scope="repository:${repo}:pull"` }).end();
    }
    const status = digest === DIGEST ? (repos[repo] ?? 404) : 404;
    res.writeHead(status, status === 200 ? { "content-type": "application/vnd.oci.image.index.v1+json", "docker-content-digest": digest } : {}).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, host, requests, close: () => new Promise((r) => server.close(() => r())) };
}
