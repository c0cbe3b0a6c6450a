import { deriveChartKeyPaths, isChartKey, leafKeyPaths } from "./chartKeyPaths";

const SAMPLE = `
# -- top doc
routingMode: ""
bpf:
  # -- doc
  hostLegacyRouting: ~
  masquerade: false
podAnnotations: {}
nodeSelector:
  kubernetes.io/os: linux
tolerations:
  - operator: Exists
# -- Configure the kube-proxy replacement
# Valid options are "true" or "false".
# ref: https://docs.cilium.io/
#kubeProxyReplacement: "false"

# -- healthz bind address
kubeProxyReplacementHealthzBindAddr: ""
rateLimit:
  # -- Each object must have the following fields:
  # burst: The burst request rate in requests per second.
  enabled: true
`;

describe("deriveChartKeyPaths", () => {
  const keys = deriveChartKeyPaths(SAMPLE);

  test("lists intermediate and leaf paths, sorted", () => {
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(["bpf", "bpf.hostLegacyRouting", "bpf.masquerade", "routingMode", "tolerations"]));
  });

  test("free-form maps become wildcards and their sample children are not keys", () => {
    expect(keys).toEqual(expect.arrayContaining(["podAnnotations", "podAnnotations.*", "nodeSelector", "nodeSelector.*"]));
    expect(keys.some((k) => k.includes("kubernetes.io"))).toBe(false);
  });

  test("lists are leaves (no item paths)", () => {
    expect(keys.filter((k) => k.startsWith("tolerations"))).toEqual(["tolerations"]);
  });

  test("a helm-docs documented, commented-out key counts; prose lines do not", () => {
    expect(keys).toContain("kubeProxyReplacement");
    expect(keys).not.toContain("ref");
    expect(keys).not.toContain("rateLimit.burst");
  });

  test("rejects unparsable YAML", () => {
    expect(() => deriveChartKeyPaths("a: [1,\n")).toThrow(/does not parse/);
  });
});

describe("isChartKey and leafKeyPaths", () => {
  const keys = new Set(deriveChartKeyPaths(SAMPLE));

  test("exact keys and children of free-form maps are accepted, others are not", () => {
    expect(isChartKey("bpf.hostLegacyRouting", keys)).toBe(true);
    expect(isChartKey("podAnnotations.example.com/x", keys)).toBe(true);
    expect(isChartKey("bpf.hostRouting", keys)).toBe(false);
    expect(isChartKey("bpf.hostLegacyRouting.x", keys)).toBe(false);
  });

  test("leaf paths: nested objects descend, arrays and scalars are leaves", () => {
    expect(leafKeyPaths({ a: { b: 1, c: [1, 2] }, d: "x", e: {} }).sort()).toEqual(["a.b", "a.c", "d", "e"]);
  });
});
