// Preview (dryRun) under mocks, as on a stack's first preview: the release's values must be
// known, whole, so a policy pack can check the encryption settings before anything exists; and
// the Kubernetes provider, given as a resource option, reaches every child.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cilium } from "./cilium";
import { settle } from "../../test/pulumiMocks";

const inputs = new Map<string, Record<string, any>>();
const providers = new Map<string, string>();

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputs.set(args.name, args.inputs);
        providers.set(args.name, args.provider ?? "");
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "wg-mesh-cluster",
    "preview",
    true,
  );
});

/** Paths of every value that is unknown at preview. */
function unknownPaths(value: unknown, path = "values"): string[] {
  if (pulumi.isUnknown(value)) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, `${path}.${k}`));
  return [];
}

test("at preview every release value is known, and the provider from the options reaches every child", async () => {
  const provider = new k8s.Provider("k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
  const cilium = new Cilium(
    "cilium",
    { podCidrV4: "10.244.0.0/16", k8sServiceHost: "127.0.0.1", k8sServicePort: 7445, underlayMtus: { aws: 1500 }, behindNat: true },
    { provider },
  );
  await new Promise((resolve) => cilium.release.urn.apply(resolve));
  await settle();

  const values = inputs.get("cilium-release")?.values;
  expect(values).toBeDefined();
  expect(values.encryption).toEqual({
    enabled: true,
    type: "wireguard",
    nodeEncryption: false,
    strictMode: { egress: { enabled: true, cidr: "10.244.0.0/16", allowRemoteNodeIdentities: false } },
    wireguard: { persistentKeepalive: "25s" },
  });
  expect(values.MTU).toBe(1500);
  expect(values.k8sServiceHost).toBe("127.0.0.1");
  expect(Object.keys(values).length).toBeGreaterThan(10);
  expect(unknownPaths(values)).toEqual([]);
  expect(inputs.get("cilium-release")?.version).toBe("1.20.0");
  for (const child of ["cilium-release", "cilium-deny-cloud-metadata"])
    expect([child, providers.get(child)]).toEqual([child, expect.stringMatching(/pulumi:providers:kubernetes::k8s::/)]);
});

test("bad inputs are refused at construction, naming the key, before any child is registered", () => {
  const provider = new k8s.Provider("k8s-bad", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
  const before = inputs.size;
  expect(
    () =>
      new Cilium(
        "bad",
        { podCidrV4: "10.244.0.0/16", nativeRoutingCidrV4: "10.244.0.0/24", k8sServiceHost: "127.0.0.1", underlayMtus: { aws: 1500 } },
        { provider },
      ),
  ).toThrow(/bad: cilium\.nativeRoutingCidr: 10\.244\.0\.0\/24 does not cover the pod CIDR/);
  expect([...inputs.keys()].slice(before).filter((n) => n.startsWith("bad-"))).toEqual([]);
});
