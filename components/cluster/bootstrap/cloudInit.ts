// The node's cloud-init user data: files (env, kubeadm config, network units, the static
// bootstrap script and its systemd unit) plus a runcmd that starts the unit. No SSH keys,
// no passwords, and no private key: control-plane nodes fetch the PKI at boot.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Document } from "yaml";
import { ENV_FILE, KUBEADM_CONFIG_FILE, renderBootstrapEnv } from "./bootstrapEnv";
import { renderKubeadmConfig } from "./kubeadmConfig";
import { networkUnits } from "./networkUnits";
import type { NodeBootstrap } from "./types";
import { validateBootstrap } from "./validate";

export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/sbin/wg-mesh-bootstrap";
export const BOOTSTRAP_UNIT = "wg-mesh-bootstrap.service";

/** The repository's bootstrap.sh, shipped verbatim so shellcheck checks what nodes run. */
export const bootstrapScriptSource = (): string => readFileSync(join(__dirname, "bootstrap.sh"), "utf8");

// A oneshot unit rather than a bare runcmd: output goes to the journal and the console,
// and if the machine reboots before finishing, the enabled unit runs the script again
// (until kubelet.conf exists, i.e. the node has joined).
const BOOTSTRAP_UNIT_CONTENT = `[Unit]
Description=wg-mesh: make this machine a Kubernetes node (kubeadm)
Wants=network-online.target
After=network-online.target systemd-networkd.service
ConditionPathExists=!/etc/kubernetes/kubelet.conf

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${BOOTSTRAP_SCRIPT_PATH}
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
      file(KUBEADM_CONFIG_FILE, renderKubeadmConfig(b), "0600"), // holds the bootstrap token
      ...networkUnits(b.nodeIp).map((u) => file(u.path, u.content, "0644")),
      file(BOOTSTRAP_SCRIPT_PATH, bootstrapScriptSource(), "0755"),
      file(`/etc/systemd/system/${BOOTSTRAP_UNIT}`, BOOTSTRAP_UNIT_CONTENT, "0644"),
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", BOOTSTRAP_UNIT],
      // Blocking start: cloud-init reports an error (cloud-init status) if bootstrap fails.
      ["systemctl", "start", BOOTSTRAP_UNIT],
    ],
  };
}

/** "#cloud-config\n..." for one node. Pure: same input, same output. */
export function renderCloudInit(b: NodeBootstrap): string {
  const doc = new Document(cloudConfig(b));
  return `#cloud-config\n${doc.toString({ lineWidth: 0 })}`;
}
