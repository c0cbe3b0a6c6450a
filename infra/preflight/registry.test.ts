// The anonymous pull check against a local registry stand-in (test/standins/registry.ts).
import { checkAnonymousPull, parseBearerChallenge, parseImageRef, pullCheckMessage } from "./registry";
import { DIGEST, startRegistry, type RegistryStandIn } from "../../test/standins/registry";

let registry: RegistryStandIn;
beforeAll(async () => {
  registry = await startRegistry({ "acme/public-agent": 200, "acme/private-agent": 401, "acme/hidden-agent": 404, "acme/forbidden": 403 });
});
afterAll(() => registry.close());
const http = { scheme: "http" as const, timeoutMs: 2_000 };

describe("parseImageRef", () => {
  it("splits registry, repository and digest as containerd does", () => {
    expect(parseImageRef(`ghcr.io/acme/node-router@${DIGEST}`)).toEqual({ registry: "ghcr.io", repository: "acme/node-router", digest: DIGEST });
    expect(parseImageRef(`localhost:5000/a@${DIGEST}`)?.registry).toBe("localhost:5000");
    expect(parseImageRef(`busybox@${DIGEST}`)).toEqual({ registry: "registry-1.docker.io", repository: "library/busybox", digest: DIGEST });
    expect(parseImageRef("ghcr.io/acme/node-router:latest")).toBeUndefined();
  });

  it("reads a Bearer challenge", () => {
    expect(parseBearerChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"')).toEqual({
      realm: "https://ghcr.io/token",
      service: "ghcr.io",
      scope: "repository:a/b:pull",
    });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
  });
});

describe("checkAnonymousPull", () => {
  it("a public repository: 401, anonymous token, HEAD by digest answers 200", async () => {
    const before = registry.requests.length;
    await expect(checkAnonymousPull(`${registry.host}/acme/public-agent@${DIGEST}`, http)).resolves.toEqual({ kind: "pullable" });
    expect(registry.requests.slice(before)).toEqual([
      `HEAD /v2/acme/public-agent/manifests/${DIGEST}`,
      `GET /token?service=standin&scope=${encodeURIComponent("repository:acme/public-agent:pull")}`,
      `HEAD /v2/acme/public-agent/manifests/${DIGEST}`,
    ]);
  });

  it.each([
    ["private-agent", 401],
    ["hidden-agent", 404],
    ["forbidden", 403],
  ])("a %s repository (HTTP %i with the anonymous token) is refused, naming the fix", async (repo, status) => {
    const image = `${registry.host}/acme/${repo}@${DIGEST}`;
    const check = await checkAnonymousPull(image, http);
    expect(check).toMatchObject({ kind: "denied", status });
    const { problem, warning } = pullCheckMessage(check, image, "wg-mesh-cluster:nodeRouter.image");
    expect(problem).toMatch(
      /^wg-mesh-cluster:nodeRouter\.image: .* is not pullable anonymously .*make the package public .*or set `nodeRouter\.imagePullSecrets`.*preflight\.skip: \[imagePull\]/,
    );
    expect(warning).toBeUndefined();
  });

  it("another digest of the public repository is not there", async () => {
    await expect(checkAnonymousPull(`${registry.host}/acme/public-agent@sha256:${"cd".repeat(32)}`, http)).resolves.toMatchObject({
      kind: "denied",
      status: 404,
    });
  });

  it("an unreachable registry is a warning, not a refusal", async () => {
    // A port nothing listens on any more (fetch refuses well-known ports such as 1 itself).
    const gone = await startRegistry({});
    await gone.close();
    const image = `${gone.host}/acme/public-agent@${DIGEST}`;
    const check = await checkAnonymousPull(image, http);
    expect(check).toMatchObject({ kind: "unreachable", detail: "ECONNREFUSED" });
    const { problem, warning } = pullCheckMessage(check, image, "k");
    expect(problem).toBeUndefined();
    expect(warning).toMatch(/^k: could not ask the registry .*ECONNREFUSED.*not refused/);
  });

  it("production speaks https: the plain-HTTP stand-in does not answer it as a registry", async () => {
    await expect(checkAnonymousPull(`${registry.host}/acme/public-agent@${DIGEST}`, { timeoutMs: 2_000 })).resolves.toMatchObject({ kind: "unreachable" });
  });
});
