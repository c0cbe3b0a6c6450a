// Preview (dryRun) under mocks with an API host that is not known yet, as on a stack's first
// preview: the release's values must still carry the encryption settings a policy pack checks.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cilium } from "./cilium";

const inputs = new Map<string, Record<string, any>>();
const providers = new Map<string, string>();

/** Stands in for the cluster's API load balancer, whose DNS name is unknown at preview. */
class ApiEndpoint extends pulumi.CustomResource {
  declare readonly host: pulumi.Output<string>;
  constructor(name: string) {
    super("test:index:ApiEndpoint", name, { host: undefined });
  }
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputs.set(args.name, args.inputs);
        providers.set(args.name, args.provider ?? "");
        // Like the engine at preview: outputs that were not inputs stay unknown.
        return { id: args.type.startsWith("test:") ? undefined : `${args.name}-id`, state: args.type.startsWith("test:") ? {} : args.inputs };
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

test("at preview the release values are known except the API host", async () => {
  const endpoint = new ApiEndpoint("api");
  const provider = new k8s.Provider("k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
  const cilium = new Cilium("cilium", { provider, podCidrV4: "10.244.0.0/16", k8sServiceHost: endpoint.host, underlayMtus: { aws: 1500 }, behindNat: true });
  await new Promise((resolve) => cilium.release.urn.apply(resolve));

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
  // Only the host is unknown; it is not wrapped around (and so does not hide) the rest.
  expect(pulumi.isUnknown(values.k8sServiceHost)).toBe(true);
  expect(pulumi.isUnknown(values.encryption)).toBe(false);
  expect(inputs.get("cilium-release")?.version).toBe("1.20.0");
  expect(providers.get("cilium-release")).toMatch(/pulumi:providers:kubernetes::k8s::/);
});
