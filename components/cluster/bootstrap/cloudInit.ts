// The node's cloud-init user data: files (env, kubeadm configs, the cluster CA, the local
// API proxy, network units, the static bootstrap scripts and their systemd units) plus a
// runcmd that starts the bootstrap unit. No SSH keys, no passwords, and no private key:
// control-plane nodes fetch the PKI at boot.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Document } from "yaml";
import { CA_CERT_FILE, ENV_FILE, KUBEADM_INIT_FILE, KUBEADM_JOIN_FILE, LIB_DIR, renderBootstrapEnv } from "./bootstrapEnv";
import { renderInitConfig, renderJoinConfig } from "./kubeadmConfig";
import { networkUnits } from "./networkUnits";
import {
  PROXY_CONFIG_FILE,
  PROXY_SYNC_PATH_UNIT,
  PROXY_SYNC_PATH_UNIT_CONTENT,
  PROXY_SYNC_SCRIPT_PATH,
  PROXY_SYNC_UNIT,
  PROXY_SYNC_UNIT_CONTENT,
  PROXY_UNIT,
  PROXY_UNIT_CONTENT,
  renderProxyConfig,
} from "./apiserverProxy";
import type { NodeBootstrap } from "./types";
import { validateBootstrap } from "./validate";
import {
  GUARD_SCRIPT_PATH,
  GUARD_UNIT,
  GUARD_UNIT_CONTENT,
  KUBELET_DROP_IN,
  KUBELET_DROP_IN_PATH,
  NETWORKD_DROP_IN,
  NETWORKD_DROP_IN_PATH,
} from "./guardUnits";
import { bootGuardRuleset, GUARD_BOOT_RULESET_FILE } from "./bootGuard";

export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/sbin/wg-mesh-bootstrap";
export const BOOTSTRAP_UNIT = "wg-mesh-bootstrap.service";
/** The shell libraries bootstrap.sh sources, shipped verbatim from this directory. */
export const BOOTSTRAP_LIBRARIES = ["packages.sh", "decide.sh", "etcd.sh", "secrets.sh"] as const;

/**
 * A script as nodes get it: the repository's file without its comment and blank lines (the
 * shebang and `# shellcheck` directives stay), because EC2 takes 16 KiB of user data and
 * every byte the scripts save is room for the node table. Nothing else changes: no script
 * has a heredoc or a multi-line string, and shellcheck checks what is shipped.
 */
export function shippedScript(text: string): string {
  return text
    .split("\n")
    .filter((line, i) => {
      if (i === 0 && line.startsWith("#!")) return true;
      if (/^\s*#\s*shellcheck\s/.test(line)) return true;
      return !/^\s*#/.test(line) && line.trim() !== "";
    })
    .join("\n")
    .concat("\n");
}

const source = (file: string): string => shippedScript(readFileSync(join(__dirname, file), "utf8"));
/** The repository's bootstrap.sh as shipped (shippedScript), so shellcheck checks what nodes run. */
export const bootstrapScriptSource = (): string => source("bootstrap.sh");
/** The boot-time egress guard (guard.sh), likewise. */
export const guardScriptSource = (): string => source("guard.sh");
export const proxySyncScriptSource = (): string => source("proxySync.sh");

// A oneshot unit rather than a bare runcmd: output goes to the journal and the console; a
// transient failure (no egress yet, a package mirror down, the API not up) is retried by
// systemd every 30 s, at most 20 times in 3 hours; and if the machine reboots first, the
// enabled unit runs the script again (until kubelet.conf exists, i.e. the node has joined).
const BOOTSTRAP_UNIT_CONTENT = `[Unit]
Description=wg-mesh: make this machine a Kubernetes node (kubeadm)
Wants=network-online.target
After=network-online.target systemd-networkd.service
ConditionPathExists=!/etc/kubernetes/kubelet.conf
StartLimitIntervalSec=3h
StartLimitBurst=20

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${BOOTSTRAP_SCRIPT_PATH}
Restart=on-failure
RestartSec=30s
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=90min

[Install]
WantedBy=multi-user.target
`;

interface WriteFile {
  path: string;
  content: string;
  permissions: string;
  owner: string;
}

const file = (path: string, content: string, permissions: string): WriteFile => ({ path, content, permissions, owner: "root:root" });

export function cloudConfig(b: NodeBootstrap) {
  validateBootstrap(b);
  return {
    // No SSH: no keys are installed, password logins are off, root cannot log in.
    ssh_pwauth: false,
    disable_root: true,
    write_files: [
      file(ENV_FILE, renderBootstrapEnv(b), "0600"),
      file(KUBEADM_JOIN_FILE, renderJoinConfig(b), "0600"), // a token placeholder: the token is fetched at boot
      ...(b.mayInit ? [file(KUBEADM_INIT_FILE, renderInitConfig(b), "0600")] : []),
      file(CA_CERT_FILE, b.caCertPem.endsWith("\n") ? b.caCertPem : `${b.caCertPem}\n`, "0644"),
      file(PROXY_CONFIG_FILE, renderProxyConfig(b.controlPlanes), "0644"),
      file(`/etc/systemd/system/${PROXY_UNIT}`, PROXY_UNIT_CONTENT, "0644"),
      file(PROXY_SYNC_SCRIPT_PATH, proxySyncScriptSource(), "0755"),
      file(`/etc/systemd/system/${PROXY_SYNC_UNIT}`, PROXY_SYNC_UNIT_CONTENT, "0644"),
      file(`/etc/systemd/system/${PROXY_SYNC_PATH_UNIT}`, PROXY_SYNC_PATH_UNIT_CONTENT, "0644"),
      ...networkUnits(b.nodeIp).map((u) => file(u.path, u.content, "0644")),
      file(NETWORKD_DROP_IN_PATH, NETWORKD_DROP_IN, "0644"),
      file(GUARD_BOOT_RULESET_FILE, bootGuardRuleset(b), "0644"), // public: addresses, ports and marks
      file(GUARD_SCRIPT_PATH, guardScriptSource(), "0755"),
      file(`/etc/systemd/system/${GUARD_UNIT}`, GUARD_UNIT_CONTENT, "0644"),
      file(KUBELET_DROP_IN_PATH, KUBELET_DROP_IN, "0644"),
      file(BOOTSTRAP_SCRIPT_PATH, bootstrapScriptSource(), "0755"),
      ...BOOTSTRAP_LIBRARIES.map((lib) => file(`${LIB_DIR}/${lib}`, source(lib), "0644")),
      file(`/etc/systemd/system/${BOOTSTRAP_UNIT}`, BOOTSTRAP_UNIT_CONTENT, "0644"),
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      // --no-block: systemd owns the retries; `systemctl status wg-mesh-bootstrap` and the
      // journal (or the serial console) show progress.
      ["systemctl", "enable", "--now", "--no-block", BOOTSTRAP_UNIT],
    ],
  };
}

/** "#cloud-config\n..." for one node. Pure: same input, same output. */
export function renderCloudInit(b: NodeBootstrap): string {
  const doc = new Document(cloudConfig(b));
  return `#cloud-config\n${doc.toString({ lineWidth: 0 })}`;
}
