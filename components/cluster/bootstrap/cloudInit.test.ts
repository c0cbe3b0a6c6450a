import { BOOTSTRAP_LIBRARIES, bootstrapScriptSource, renderCloudInit, shippedScript } from "./cloudInit";
import { EC2_USER_DATA_LIMIT, gunzipUserData, gzipUserData } from "../../aws/userData";
import { CA_CERT_FILE, ENV_FILE, KUBEADM_INIT_FILE, KUBEADM_JOIN_FILE } from "./bootstrapEnv";
import { exampleNodes } from "../../../test/fixtures/bootstrap";
import { cloudInitSchema, parseCloudConfig, requireTool, run, withTempDir, writtenFile } from "../../../test/tools";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NodeBootstrap } from "./types";
import { MAX_NODES } from "../../core/nodeTable";
import { parseNodeTable } from "../../../agent/src/nodeTable";
import { parseSettings } from "../../../agent/src/settings";
import { guardShape } from "../../../agent/src/guard";
import { bootGuardNodes, packBootGuardNodes, SECRET_VALUE_LIMIT, unpackBootGuardNodes } from "./bootGuard";
import { randomBytes } from "node:crypto";

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

  it("keeps secrets-bearing files root-only and ships the static scripts verbatim", () => {
    expect(writtenFile(config, ENV_FILE).permissions).toBe("0600");
    expect(writtenFile(config, KUBEADM_JOIN_FILE).permissions).toBe("0600");
    const script = writtenFile(config, "/usr/local/sbin/wg-mesh-bootstrap");
    expect(script.permissions).toBe("0755");
    expect(script.content).toBe(bootstrapScriptSource());
    for (const lib of BOOTSTRAP_LIBRARIES) {
      expect(writtenFile(config, `/usr/local/lib/wg-mesh/${lib}`).content).toBe(shippedScript(readFileSync(join(__dirname, lib), "utf8")));
    }
    expect(config.runcmd).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "--no-block", "wg-mesh-bootstrap.service"],
    ]);
  });

  it("retries the bootstrap unit on failure, with a limit", () => {
    const unit = writtenFile(config, "/etc/systemd/system/wg-mesh-bootstrap.service").content;
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartSec=30s$/m);
    expect(unit).toMatch(/^StartLimitBurst=20$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=3h$/m);
  });

  it("gives only a control plane that may init an init configuration", () => {
    const hasInit = config.write_files.some((f) => f.path === KUBEADM_INIT_FILE);
    expect(hasInit).toBe(node.mayInit);
  });

  it("ships the cluster CA certificate (public) and a local API proxy to every control plane", () => {
    expect(writtenFile(config, CA_CERT_FILE)).toMatchObject({ content: node.caCertPem, permissions: "0644" });
    const proxy = writtenFile(config, "/etc/wg-mesh/apiserver-proxy.cfg").content;
    for (const cp of node.controlPlanes) expect(proxy).toContain(`server ${cp.name} ${cp.ip}:6443`);
    expect(proxy).toContain("bind 127.0.0.1:7445");
  });

  it("puts the public IP on the dummy interface", () => {
    const network = writtenFile(config, "/etc/systemd/network/50-wgmesh0.network").content;
    expect(network).toContain(`Address=${node.nodeIp}/32`);
    expect(writtenFile(config, "/etc/systemd/network/50-wgmesh0.netdev").content).toContain("Kind=dummy");
  });

  it("carries no join token anywhere, only where the node reads it (its own cloud's store) and placeholders for kubeadm", () => {
    expect(userData).not.toMatch(/[a-z0-9]{6}\.[a-z0-9]{16}/);
    expect(writtenFile(config, KUBEADM_JOIN_FILE).content).toContain("@@WG_MESH_JOIN_TOKEN@@");
    const env = writtenFile(config, ENV_FILE).content;
    const ref = node.joinTokenSecret[node.cloud]!;
    expect(env).toContain(`JOIN_TOKEN_${node.cloud.toUpperCase()}_SECRET_ID='${ref.secretId}'`);
  });

  it("writes an env file that real bash reads back exactly", () => {
    const env = writtenFile(config, ENV_FILE).content;
    const out = withTempDir((dir) => {
      writeFileSync(join(dir, "env"), env);
      return run("bash", [
        "-c",
        'set -eu; source "$1"; printf "%s|" "$NODE_IP" "$ROLE" "$MAY_INIT" "$K8S_MINOR" "$CP_NAMES" "$CP_IPS" "$API_PROXY" "$AGENT_IMAGE" "$KUBEADM_INIT_CONFIG" "$PKI_FILES"',
        "_",
        join(dir, "env"),
      ]);
    });
    expect(out.status).toBe(0);
    const pki = node.role === "control-plane" ? "ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key" : "";
    const cps = node.controlPlanes;
    expect(out.output).toBe(
      [
        node.nodeIp,
        node.role,
        String(node.mayInit),
        "v1.34",
        cps.map((c) => c.name).join(" "),
        cps.map((c) => c.ip).join(" "),
        "127.0.0.1:7445",
        node.agentImage,
        node.mayInit ? KUBEADM_INIT_FILE : "",
        pki,
        "",
      ].join("|"),
    );
  });

  it("fits in EC2's 16 KiB user-data limit once gzipped, and unpacks to the same bytes", () => {
    const packed = gzipUserData(userData);
    expect(Buffer.from(packed, "base64").length).toBeLessThan(EC2_USER_DATA_LIMIT);
    expect(Buffer.from(packed, "base64").subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip magic: cloud-init unpacks it
    expect(gunzipUserData(packed)).toBe(userData);
    expect(gzipUserData(userData)).toBe(packed); // deterministic
  });
});

it("still fits EC2's limit with 100 control planes in the proxy list", () => {
  const many = Array.from({ length: 100 }, (_, i) => ({ name: `demo-aws-cp-${i}`, ip: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  const node: NodeBootstrap = { ...exampleNodes["aws first control-plane"], controlPlanes: many, nodeName: "demo-aws-cp-0", nodeIp: many[0].ip };
  expect(Buffer.from(gzipUserData(renderCloudInit(node)), "base64").length).toBeLessThan(EC2_USER_DATA_LIMIT);
});

it("the schema check can fail: a broken document is rejected by the same command", () => {
  const broken = renderCloudInit(exampleNodes["aws worker"]).replace(/^runcmd:/m, "runcmd: 5\nunused_runcmd:");
  const r = cloudInitSchema(broken);
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/runcmd: 5 is not of type 'array'/);
});

it("rendering is pure: the same node renders the same bytes", () => {
  const node = exampleNodes["gcp first control-plane"];
  expect(renderCloudInit(node)).toBe(renderCloudInit({ ...node }));
});

it("control-plane user data names the secret, workers' does not", () => {
  const cp = renderCloudInit(exampleNodes["aws second control-plane"]);
  expect(cp).toContain("PKI_AWS_SECRET_ID='demo-cluster-pki'");
  const worker = renderCloudInit(exampleNodes["gcp worker"]);
  expect(worker).toContain("PKI_GCP_SECRET_ID=''");
  expect(worker).toContain("PKI_FILES=''");
});

describe.each(nodes)("node table and egress guard boot files for %s", (_name, node) => {
  const config = parseCloudConfig(renderCloudInit(node));

  it("carries no node table document and no node address: the agent reads the ConfigMap, the boot guard the store", () => {
    expect(config.write_files.map((f) => f.path)).not.toContain("/etc/wg-mesh/node-table.json");
    expect(JSON.stringify(config)).not.toContain('"podCidrs"');
    const others = parseNodeTable(node.nodeTable).nodes.filter((n) => n.name !== node.nodeName);
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect(writtenFile(config, "/etc/wg-mesh/guard.nft").content).not.toContain(other.addresses[0]);
  });

  it("carries this node's guard ruleset without node addresses: the agent's own rendering with the DaemonSet's settings", () => {
    const file = writtenFile(config, "/etc/wg-mesh/guard.nft");
    expect(file.permissions).toBe("0644"); // public: ports, marks, pod CIDRs
    // Rendered here independently, by the agent's code from the flags the agent would be given.
    const table = parseNodeTable(node.nodeTable);
    const settings = parseSettings(
      Object.entries(node.guard).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]),
      {},
    );
    const nodes = table.nodes.map((n) => ({ name: n.name, addresses: n.addresses.slice(0, 1), controlPlane: n.role === "control-plane" }));
    expect(file.content).toBe(guardShape({ localNodeName: node.nodeName, nodes, podCidrs: table.podCidrs, settings }));
    // A control plane's shape differs (its replies from the exempt ports): the role is in the file.
    expect(file.content.includes("exempt_reply_mark")).toBe(node.role === "control-plane");
  });

  it("names the secret every node's address is read from, in its own cloud", () => {
    const env = writtenFile(config, ENV_FILE).content;
    const ref = node.bootGuardSecret;
    expect(env).toContain(`BOOT_GUARD_AWS_SECRET_ID='${ref.aws?.secretId ?? ""}'`);
    expect(env).toContain(`BOOT_GUARD_GCP_SECRET_ID='${ref.gcp?.secretId ?? ""}'`);
    expect(ref[node.cloud]).toBeDefined();
  });

  it("tells the guard script what the underlay is not: the WireGuard device and the local interfaces, as the agent reads them", () => {
    const env = writtenFile(config, ENV_FILE).content;
    expect(env).toContain("GUARD_DEVICE='cilium_wg0'");
    expect(env).toContain("GUARD_LOCAL_INTERFACES='lo,cilium_host,cilium_net,lxc*'");
    expect(env).toContain("GUARD_UNDERLAY_DEVICES=''"); // detect
  });

  it("tells systemd-networkd to leave foreign routing-policy rules and routes alone", () => {
    const conf = writtenFile(config, "/etc/systemd/networkd.conf.d/50-wg-mesh.conf");
    expect(conf.content.split("\n")).toEqual(["[Network]", "ManageForeignRoutingPolicyRules=no", "ManageForeignRoutes=no", ""]);
    expect(conf.permissions).toBe("0644");
  });
});

describe("the largest cluster's boot files", () => {
  // The largest user data: the first control plane (it also gets the init configuration), in a
  // table of nodes with the longest names, each with a scattered public and a private address.
  const base = exampleNodes["aws first control-plane"];
  function tableWith(count: number): string {
    const table = JSON.parse(base.nodeTable);
    const long = "c".repeat(20);
    for (let i = table.nodes.length; i < count; i++) {
      const publicIp = `${11 + ((i * 37) % 100)}.${(i * 91) % 251}.${(i * 53) % 253}.${((i * 29) % 254) + 1}`;
      table.nodes.push({
        name: `${long}-aws-${"p".repeat(17)}${i % 7}-${i}`,
        role: "worker",
        addresses: [publicIp, `10.${16 + (i % 16)}.${(i * 7) % 256}.${(i % 250) + 4}`],
      });
    }
    return JSON.stringify(table);
  }

  it(`fit with a node table of MAX_NODES (${MAX_NODES}) nodes: the user data as with 3, the node addresses within one secret`, () => {
    const small = Buffer.from(gzipUserData(renderCloudInit(base)), "base64").length;
    const userData = renderCloudInit({ ...base, nodeTable: tableWith(MAX_NODES) });
    const gzipped = Buffer.from(gzipUserData(userData), "base64").length;
    expect(writtenFile(parseCloudConfig(userData), "/etc/wg-mesh/guard.nft").content).not.toMatch(/ : jump to_/);
    // The user data does not grow with the node count.
    expect(Math.abs(gzipped - small)).toBeLessThan(64);
    const packed = packBootGuardNodes(bootGuardNodes(tableWith(MAX_NODES), base.guard));
    expect(packed.length).toBeLessThanOrEqual(SECRET_VALUE_LIMIT);
    // Every node's first address once (the node's own is dropped when it loads them).
    expect(unpackBootGuardNodes(packed).match(/ : jump to_/g)).toHaveLength(MAX_NODES);
    console.log(
      `[boot files] first control plane, ${MAX_NODES} nodes: user data ${gzipped} bytes gzipped (EC2 takes ${EC2_USER_DATA_LIMIT}); node addresses ${packed.length} bytes packed (a secret takes ${SECRET_VALUE_LIMIT})`,
    );
    expect(gzipped).toBeLessThan(EC2_USER_DATA_LIMIT);
  });

  it("the node addresses of 5,000 nodes fit one secret; past it the program says so", () => {
    const packed = packBootGuardNodes(bootGuardNodes(tableWith(5000), base.guard));
    console.log(`[boot files] 5,000 nodes: node addresses ${packed.length} bytes packed`);
    expect(packed.length).toBeLessThanOrEqual(SECRET_VALUE_LIMIT);
    // 100,000 random bytes as hex: about 100 KB gzipped, past what a secret takes.
    expect(() => packBootGuardNodes(randomBytes(100_000).toString("hex"))).toThrow(/bytes packed .* over the 65536 one secret holds; use fewer nodes/);
  });
});

it("ships each script without its comment and blank lines, every other line unchanged and in order", () => {
  const text =
    "#!/usr/bin/env bash\n# a comment\n\nset -e\n  # indented comment\n# shellcheck source=/dev/null\nsource x # trailing stays\necho '#not a comment'\n";
  expect(shippedScript(text)).toBe("#!/usr/bin/env bash\nset -e\n# shellcheck source=/dev/null\nsource x # trailing stays\necho '#not a comment'\n");
  for (const lib of [...BOOTSTRAP_LIBRARIES, "bootstrap.sh", "guard.sh"]) {
    const original = readFileSync(join(__dirname, lib), "utf8").split("\n");
    const shipped = shippedScript(original.join("\n")).trimEnd().split("\n");
    expect(original.filter((l) => shipped.includes(l)).length).toBeGreaterThanOrEqual(shipped.length);
    let at = 0;
    for (const line of shipped) at = original.indexOf(line, at) + 1;
    expect({ lib, inOrder: at > 0 }).toEqual({ lib, inOrder: true });
  }
});
