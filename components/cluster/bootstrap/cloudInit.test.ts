import { bootstrapScriptSource, renderCloudInit } from "./cloudInit";
import { ENV_FILE, KUBEADM_CONFIG_FILE } from "./bootstrapEnv";
import { exampleNodes } from "./fixtures";
import { cloudInitSchema, parseCloudConfig, requireTool, run, withTempDir, writtenFile } from "./testTools";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const nodes = Object.entries(exampleNodes);

beforeAll(() => {
  requireTool("cloud-init", "cloud-init");
  requireTool("bash", "bash");
});

describe.each(nodes)("cloud-init for %s", (_name, node) => {
  const userData = renderCloudInit(node);
  const config = parseCloudConfig(userData);

  it("passes the real `cloud-init schema`", () => {
    const r = cloudInitSchema(userData);
    expect(r.output).toContain("Valid cloud-config");
    expect(r.status).toBe(0);
  });

  it("carries no private key and no way in over SSH", () => {
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    expect(userData).not.toMatch(/PRIVATE KEY/);
    expect(userData).not.toMatch(/ssh-(rsa|ed25519|dss)|ecdsa-sha2/);
    expect(config).not.toHaveProperty("ssh_authorized_keys");
    expect(config).not.toHaveProperty("users");
    expect(config.ssh_pwauth).toBe(false);
    expect(config.disable_root).toBe(true);
  });

  it("keeps secrets-bearing files root-only and ships the static script", () => {
    expect(writtenFile(config, ENV_FILE).permissions).toBe("0600");
    expect(writtenFile(config, KUBEADM_CONFIG_FILE).permissions).toBe("0600");
    const script = writtenFile(config, "/usr/local/sbin/wg-mesh-bootstrap");
    expect(script.permissions).toBe("0755");
    expect(script.content).toBe(bootstrapScriptSource());
    expect(config.runcmd).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "wg-mesh-bootstrap.service"],
      ["systemctl", "start", "wg-mesh-bootstrap.service"],
    ]);
  });

  it("puts the public IP on the dummy interface", () => {
    const network = writtenFile(config, "/etc/systemd/network/50-wgmesh0.network").content;
    expect(network).toContain(`Address=${node.nodeIp}/32`);
    expect(writtenFile(config, "/etc/systemd/network/50-wgmesh0.netdev").content).toContain("Kind=dummy");
  });

  it("writes an env file that real bash reads back exactly, without the token", () => {
    const env = writtenFile(config, ENV_FILE).content;
    expect(env).not.toContain(node.bootstrapToken);
    const out = withTempDir((dir) => {
      writeFileSync(join(dir, "env"), env);
      return run("bash", ["-c", 'set -eu; source "$1"; printf "%s|" "$NODE_IP" "$API_ENDPOINT" "$ROLE" "$INIT" "$K8S_MINOR" "$PKI_FILES"', "_", join(dir, "env")]);
    });
    expect(out.status).toBe(0);
    const pki = node.role === "control-plane" ? "ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key" : "";
    expect(out.output).toBe(`${node.nodeIp}|${node.apiEndpoint}|${node.role}|${node.init}|v1.34|${pki}|`);
  });

  it("fits in EC2's 16 KiB user-data limit", () => {
    expect(Buffer.byteLength(userData)).toBeLessThan(16 * 1024);
  });
});

it("the schema check can fail: a broken document is rejected by the same command", () => {
  const broken = renderCloudInit(exampleNodes["aws worker"]).replace(/^runcmd:/m, "runcmd: 5\nunused_runcmd:");
  const r = cloudInitSchema(broken);
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/runcmd: 5 is not of type 'array'/);
});

it("rendering is pure: the same node renders the same bytes", () => {
  const node = exampleNodes["gcp init control-plane"];
  expect(renderCloudInit(node)).toBe(renderCloudInit({ ...node }));
});

it("control-plane user data names the secret, workers' does not", () => {
  const cp = renderCloudInit(exampleNodes["aws joining control-plane"]);
  expect(cp).toContain("PKI_AWS_SECRET_ID='demo-cluster-pki'");
  const worker = renderCloudInit(exampleNodes["gcp worker"]);
  expect(worker).toContain("PKI_GCP_SECRET_ID=''");
  expect(worker).toContain("PKI_FILES=''");
});
