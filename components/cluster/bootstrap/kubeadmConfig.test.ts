import { parseAllDocuments } from "yaml";
import { renderCloudInit } from "./cloudInit";
import { KUBEADM_INIT_FILE, KUBEADM_JOIN_FILE } from "./bootstrapEnv";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { parseCloudConfig, writtenFile } from "../../../test/tools";
import type { clusterConfiguration, initConfiguration, joinConfiguration } from "./kubeadmConfig";
import type { NodeBootstrap } from "./types";
import { TOKEN_PLACEHOLDER, TOKEN_TTL_PLACEHOLDER } from "./kubeadmConfig";

// The shapes the builders produce; the test checks that parsing the YAML gives them back.
interface KubeadmDocs {
  InitConfiguration: ReturnType<typeof initConfiguration>;
  ClusterConfiguration: ReturnType<typeof clusterConfiguration>;
  JoinConfiguration: ReturnType<typeof joinConfiguration> & { controlPlane?: unknown };
}

// Reads a kubeadm config back out of the rendered user data, as the node would.
function kubeadmDocs(node: NodeBootstrap, file = KUBEADM_JOIN_FILE): KubeadmDocs {
  const content = writtenFile(parseCloudConfig(renderCloudInit(node)), file).content;
  const docs = parseAllDocuments(content).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as { apiVersion: string; kind: string };
  });
  for (const d of docs) expect(d.apiVersion).toBe("kubeadm.k8s.io/v1beta4");
  return Object.fromEntries(docs.map((d) => [d.kind, d])) as unknown as KubeadmDocs;
}

const nodeIpArg = (n: NodeBootstrap) => [{ name: "node-ip", value: n.nodeIp }];

describe.each(["aws", "gcp"])("%s", (cloud) => {
  it("first control-plane: a token placeholder with a TTL placeholder (filled in at boot), advertise/node IP = public IP, kube-proxy skipped, etcd on all addresses", () => {
    const node = exampleNodes[`${cloud} first control-plane`];
    const docs = kubeadmDocs(node, KUBEADM_INIT_FILE);
    expect(Object.keys(docs).sort()).toEqual(["ClusterConfiguration", "InitConfiguration"]);
    const init = docs.InitConfiguration;
    expect(init.bootstrapTokens).toEqual([
      expect.objectContaining({ token: TOKEN_PLACEHOLDER, ttl: TOKEN_TTL_PLACEHOLDER, usages: ["signing", "authentication"] }),
    ]);
    expect(init.localAPIEndpoint).toEqual({ advertiseAddress: node.nodeIp, bindPort: 6443 });
    expect(init.nodeRegistration.name).toBe(node.nodeName);
    expect(init.nodeRegistration.kubeletExtraArgs).toEqual(nodeIpArg(node));
    expect(init.nodeRegistration).not.toHaveProperty("taints"); // default control-plane taint stays
    expect(init.skipPhases).toEqual(["addon/kube-proxy"]);
    const cc = docs.ClusterConfiguration;
    expect(cc).toMatchObject({
      kubernetesVersion: "v1.34.2",
      clusterName: "demo",
      // The node-local proxy to every control plane: no single control plane is the endpoint.
      controlPlaneEndpoint: "127.0.0.1:7445",
      networking: { podSubnet: node.podCidr, serviceSubnet: node.serviceCidr },
      apiServer: { certSANs: ["127.0.0.1", "localhost", ...node.extraCertSans] },
    });
    expect(cc.etcd.local.extraArgs).toEqual([
      { name: "listen-client-urls", value: "https://0.0.0.0:2379" },
      { name: "listen-peer-urls", value: "https://0.0.0.0:2380" },
    ]);
  });

  it("first control-plane can join too (rebuilt while others run), through the local proxy", () => {
    const node = exampleNodes[`${cloud} first control-plane`];
    const join = kubeadmDocs(node).JoinConfiguration;
    expect(join.discovery.bootstrapToken).toEqual({ apiServerEndpoint: "127.0.0.1:7445", token: TOKEN_PLACEHOLDER, caCertHashes: [node.discoveryHash] });
    expect(join.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: node.nodeIp, bindPort: 6443 } });
  });

  it("second control-plane: join only, discovery pinned to the CA hash, controlPlane advertises the public IP, no certificateKey", () => {
    const node = exampleNodes[`${cloud} second control-plane`];
    const docs = kubeadmDocs(node);
    expect(Object.keys(docs)).toEqual(["JoinConfiguration"]);
    const join = docs.JoinConfiguration;
    expect(join.discovery.bootstrapToken).toEqual({ apiServerEndpoint: "127.0.0.1:7445", token: TOKEN_PLACEHOLDER, caCertHashes: [node.discoveryHash] });
    expect(join.nodeRegistration.kubeletExtraArgs).toEqual(nodeIpArg(node));
    expect(join.nodeRegistration).not.toHaveProperty("taints");
    expect(join.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: node.nodeIp, bindPort: 6443 } });
  });

  it("worker: joins with token + CA hash, no controlPlane section", () => {
    const node = exampleNodes[`${cloud} worker`];
    const join = kubeadmDocs(node).JoinConfiguration;
    expect(join.discovery.bootstrapToken.caCertHashes).toEqual([node.discoveryHash]);
    expect(join.nodeRegistration).toMatchObject({ name: node.nodeName, kubeletExtraArgs: nodeIpArg(node) });
    expect(join).not.toHaveProperty("controlPlane");
  });
});
