// The node side of an in-place upgrade (upgradeNode.sh), run as the Job runs it (`bash -c
// "$SCRIPT" wg-mesh-upgrade`, the shipped text, the environment from upgradeEnvironment) in real
// bash, with the host's tools stubbed: apt-get, apt-mark, kubeadm, systemctl, kubelet,
// containerd, crictl, curl and gpg are one stub on PATH that logs its argv and answers as the
// real one would (apt-get "installs" the versions kubelet and containerd then report; kubeadm
// refuses `upgrade apply` to a version other than its own; crictl's etcdctl writes the snapshot
// where the container's /var/lib/etcd is on the host). PATH holds nothing else but the few real
// tools the script needs (listed below), so it cannot reach this machine's real systemctl or apt.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireTool, shellcheck, withTempDir } from "../../../test/tools";
import { DEFAULT_SNAPSHOT_DIR, UPGRADE_NODE_SCRIPT, upgradeEnvironment, type UpgradeStep } from "./upgradeNodeScript";

/** The real tools the script (and the stub) use on the host besides the stubbed ones. */
const HOST_TOOLS = ["cat", "chmod", "date", "dirname", "grep", "jq", "mkdir", "mktemp", "mv", "rm", "sed"];
const STUBBED = ["apt-get", "apt-mark", "kubeadm", "systemctl", "kubelet", "containerd", "crictl", "curl", "gpg"];

const which = (tool: string): string => {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${tool} not found`);
  return r.stdout.trim();
};

let BASH = "";
beforeAll(() => {
  for (const [tool, pkg] of [
    ["bash", "bash"],
    ["jq", "jq"],
    ["shellcheck", "shellcheck"],
    ["mktemp", "coreutils"],
  ])
    requireTool(tool, pkg);
  BASH = which("bash");
});

// One stub for every stubbed tool, by the name it is called with. Installed versions live in
// $STUB_DIR/installed/<package>. STUB_FAIL is a bash pattern for the call ("<tool> <args>") that fails.
const STUB = (bash: string) => `#!${bash}
name=\${0##*/}
printf '%s\\n' "$name $*" >>"$STUB_DIR/calls"
if [[ -n "\${STUB_FAIL:-}" && "$name $*" == $STUB_FAIL ]]; then
  echo "$name: failing as the test asked" >&2
  exit "\${STUB_FAIL_CODE:-1}"
fi
installed="$STUB_DIR/installed"
case "$name" in
  apt-get)
    if [[ "\${DEBIAN_FRONTEND:-}" != noninteractive ]]; then echo "apt-get: not run noninteractive" >&2; exit 3; fi
    for a in "$@"; do
      if [[ "$a" == *=*-\\* && "$a" != *::* ]]; then
        pkg=\${a%%=*} v=\${a#*=}
        v=\${v%-\\*}
        if [[ " \${STUB_APT_SKIPS:-} " != *" $pkg "* ]]; then printf '%s' "$v" >"$installed/$pkg"; fi
        echo "Setting up $pkg ($v-1.1) ..."
      fi
    done ;;
  kubeadm)
    if [[ "$1 $2 $3" == "config images list" ]]; then
      printf '%s\\n' "registry.k8s.io/kube-apiserver:\${5}" "registry.k8s.io/pause:3.10" "registry.k8s.io/etcd:3.5.21-0"; exit 0
    fi
    if [[ "$1 $2" == "upgrade apply" && "$4" != "v$(cat "$installed/kubeadm")" ]]; then
      echo "[upgrade/version] FATAL: the specified version to upgrade to \\"$4\\" is higher than the kubeadm version" >&2; exit 1
    fi
    echo "[upgrade] done" ;;
  kubelet) echo "Kubernetes v$(cat "$installed/kubelet")" ;;
  containerd) echo "containerd containerd.io $(cat "$installed/containerd.io") 05044ec0a9a75232cad458027ca83437aae3f4da" ;;
  crictl)
    case "$1" in
      ps) if [[ -n "\${STUB_ETCD_IDS:-}" ]]; then printf '%s\\n' $STUB_ETCD_IDS; fi ;;
      exec)
        shift 2
        case "$*" in
          *" snapshot save "*)
            f=\${*: -1}
            if [[ "$f" == /var/lib/etcd/* ]]; then printf 'etcd snapshot bytes' >"$WG_MESH_ETCD_DATA_DIR/\${f#/var/lib/etcd/}"; fi
            echo "Snapshot saved at $f" ;;
          *" member list -w json") cat "$STUB_DIR/members.json" ;;
          *" endpoint health --cluster -w json")
            cat "$STUB_DIR/health.json"
            if [[ -n "\${STUB_UNHEALTHY:-}" ]]; then echo "Error: unhealthy cluster" >&2; exit 1; fi ;;
          *) echo "crictl stub: unexpected etcdctl $*" >&2; exit 9 ;;
        esac ;;
    esac ;;
  curl)
    while (($# > 1)); do if [[ "$1" == -o ]]; then out=$2; fi; shift; done
    printf '%s\\n' '-----BEGIN PGP PUBLIC KEY BLOCK-----' 'stub' '-----END PGP PUBLIC KEY BLOCK-----' >"$out" ;;
  gpg)
    while (($# > 1)); do if [[ "$1" == -o ]]; then out=$2; fi; shift; done
    printf 'keyring from %s' "$(cat "$1")" >"$out" ;;
esac
`;

/** containerd's config as the boot wrote it (packages.sh: the defaults, the systemd cgroup driver, the old kubeadm's pause image). */
const CONTAINERD_CONFIG = [
  "version = 2",
  '[plugins."io.containerd.grpc.v1.cri"]',
  '    sandbox_image = "registry.k8s.io/pause:3.9"',
  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
  "    SystemdCgroup = true",
  "",
].join("\n");

const OLD = { kubeadm: "1.33.6", kubelet: "1.33.6", kubectl: "1.33.6", "containerd.io": "1.7.25" };
const ETCD_ID = "3f2a9c81b7d4e5f6";
const TLS =
  "--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key";
const APT = "apt-get -y -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
const OLD_LIST = "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /\n";

interface Host {
  dir: string;
  keyring: string;
  sources: string;
  etcdData: string;
  snapshots: string;
  tmp: string;
  containerdConfig: string;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
  /** stdout's own progress lines, without what the (stubbed) commands printed. */
  progress: string[];
}

/** A node's host in `dir`: a joined node (a control plane when asked) at the old versions. */
function makeHost(dir: string, o: { controlPlane?: boolean; joined?: boolean; keyring?: boolean } = {}): Host {
  const h: Host = {
    dir,
    keyring: join(dir, "etc/apt/keyrings/kubernetes-apt-keyring.gpg"),
    sources: join(dir, "etc/apt/sources.list.d"),
    etcdData: join(dir, "var/lib/etcd"),
    snapshots: join(dir, "var/lib/wg-mesh/etcd-snapshots"),
    tmp: join(dir, "tmp"),
    containerdConfig: join(dir, "etc/containerd/config.toml"),
  };
  const stubs = join(dir, "stubs");
  const hostBin = join(dir, "host-bin");
  for (const d of [stubs, hostBin, h.sources, h.etcdData, h.tmp, join(dir, "stub-state/installed"), join(dir, "etc/kubernetes/manifests")])
    mkdirSync(d, { recursive: true });
  writeFileSync(join(stubs, "stub"), STUB(BASH));
  chmodSync(join(stubs, "stub"), 0o755);
  for (const tool of STUBBED) symlinkSync(join(stubs, "stub"), join(stubs, tool));
  for (const tool of HOST_TOOLS) symlinkSync(which(tool), join(hostBin, tool));
  for (const [pkg, version] of Object.entries(OLD)) writeFileSync(join(dir, "stub-state/installed", pkg), version);
  writeFileSync(join(dir, "stub-state/calls"), "");
  writeFileSync(join(h.sources, "kubernetes.list"), OLD_LIST);
  mkdirSync(join(dir, "etc/containerd"), { recursive: true });
  writeFileSync(h.containerdConfig, CONTAINERD_CONFIG);
  if (o.keyring ?? true) {
    mkdirSync(join(dir, "etc/apt/keyrings"), { recursive: true });
    writeFileSync(h.keyring, "the keyring the boot installed");
  }
  if (o.joined ?? true) writeFileSync(join(dir, "etc/kubernetes/kubelet.conf"), "kubeconfig");
  if (o.controlPlane) writeFileSync(join(dir, "etc/kubernetes/manifests/kube-apiserver.yaml"), "pod");
  return h;
}

/** The shipped script as the Job runs it: `bash -c "$SCRIPT" wg-mesh-upgrade`, nothing else in the environment. */
function runScript(h: Host, env: Record<string, string>): Result {
  const calls = join(h.dir, "stub-state/calls");
  writeFileSync(calls, "");
  const r = spawnSync(BASH, ["-c", UPGRADE_NODE_SCRIPT, "wg-mesh-upgrade"], {
    encoding: "utf8",
    // No stdin, as in the Job. (A socket there, node's default, makes bash read ~/.bashrc as if run by sshd.)
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: `${join(h.dir, "stubs")}:${join(h.dir, "host-bin")}`,
      TMPDIR: h.tmp,
      STUB_DIR: join(h.dir, "stub-state"),
      WG_MESH_APT_SOURCES_DIR: h.sources,
      WG_MESH_APT_KEYRING: h.keyring,
      WG_MESH_KUBERNETES_DIR: join(h.dir, "etc/kubernetes"),
      WG_MESH_ETCD_DATA_DIR: h.etcdData,
      WG_MESH_CONTAINERD_CONFIG: h.containerdConfig,
      ...env,
    },
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  const log = readFileSync(calls, "utf8");
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    calls: log === "" ? [] : log.replace(/\n$/, "").split("\n"),
    progress: r.stdout.split("\n").filter((l) => l.startsWith("wg-mesh-upgrade:")),
  };
}

const step = (h: Host, s: UpgradeStep, extra: Record<string, string> = {}) =>
  runScript(h, { ...upgradeEnvironment({ step: s, kubernetesVersion: "1.34.2", containerdVersion: "1.7.27" }), ...extra });

const installed = (h: Host, pkg: string) => readFileSync(join(h.dir, "stub-state/installed", pkg), "utf8");

/** Every call a node step makes, in order, around its kubeadm upgrade. */
const nodeCalls = (upgrade: string) => [
  `${APT} update`,
  "apt-mark unhold kubeadm",
  `${APT} install kubeadm=1.34.2-*`,
  "apt-mark hold kubeadm",
  upgrade,
  "apt-mark unhold kubelet kubectl containerd.io",
  `${APT} install kubelet=1.34.2-* kubectl=1.34.2-* containerd.io=1.7.27-*`,
  "apt-mark hold containerd.io kubelet kubeadm kubectl",
  "kubeadm config images list --kubernetes-version v1.34.2",
  "systemctl daemon-reload",
  "systemctl restart containerd",
  "systemctl restart kubelet",
  "kubelet --version",
  "containerd --version",
];

const nodeProgress = (s: UpgradeStep, upgrade: string) => [
  `wg-mesh-upgrade: step ${s}: Kubernetes 1.34.2 (pkgs.k8s.io v1.34), containerd.io 1.7.27`,
  "wg-mesh-upgrade: apt: pkgs.k8s.io v1.34",
  "wg-mesh-upgrade: kubeadm 1.34.2",
  `wg-mesh-upgrade: ${upgrade}`,
  "wg-mesh-upgrade: kubelet and kubectl 1.34.2, containerd.io 1.7.27",
  "wg-mesh-upgrade: containerd: sandbox_image registry.k8s.io/pause:3.10",
  "wg-mesh-upgrade: restarting containerd and kubelet",
  `wg-mesh-upgrade: done ${s} kubelet=v1.34.2 containerd=1.7.27`,
];

describe("node steps", () => {
  it("worker: apt points at the new minor, kubeadm is installed and upgrades the node, then kubelet, kubectl and containerd.io, held, restarted, verified", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade node"));
      expect(r.progress).toEqual(nodeProgress("worker", "kubeadm upgrade node"));
      expect(r.stdout.trimEnd().split("\n").pop()).toBe("wg-mesh-upgrade: done worker kubelet=v1.34.2 containerd=1.7.27");
      expect(readFileSync(join(h.sources, "kubernetes.list"), "utf8")).toBe(`deb [signed-by=${h.keyring}] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n`);
      expect(readdirSync(h.sources)).toEqual(["kubernetes.list"]);
      expect(readFileSync(h.keyring, "utf8")).toBe("the keyring the boot installed"); // present: not fetched again
      expect([installed(h, "kubeadm"), installed(h, "kubelet"), installed(h, "kubectl"), installed(h, "containerd.io")]).toEqual([
        "1.34.2",
        "1.34.2",
        "1.34.2",
        "1.7.27",
      ]);
      // containerd restarts with the pause image the new kubeadm expects; nothing else in its config moves.
      expect(readFileSync(h.containerdConfig, "utf8")).toBe(CONTAINERD_CONFIG.replace("pause:3.9", "pause:3.10"));
    });
  });

  it("a containerd config without sandbox_image (another layout) is left as it is, and the run says so", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const other = "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.9'\n";
      writeFileSync(h.containerdConfig, other);
      const r = step(h, "worker");
      expect(r.status).toBe(0);
      expect(readFileSync(h.containerdConfig, "utf8")).toBe(other);
      expect(r.progress).toContain(
        `wg-mesh-upgrade: containerd: sandbox image kept (no pause image from kubeadm, or no sandbox_image in ${h.containerdConfig})`,
      );
    });
  });

  it("control-plane: the same, with kubeadm upgrade node", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const r = step(h, "control-plane");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade node"));
      expect(r.progress).toEqual(nodeProgress("control-plane", "kubeadm upgrade node"));
    });
  });

  it("first-control-plane: kubeadm upgrade apply -y v<version>, with the new kubeadm (the stub refuses any other)", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const r = step(h, "first-control-plane");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade apply -y v1.34.2"));
      expect(r.progress).toEqual(nodeProgress("first-control-plane", "kubeadm upgrade apply v1.34.2"));
    });
  });

  it("is idempotent: run again on a node already at the versions, it does the same and succeeds", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const first = step(h, "first-control-plane");
      const again = step(h, "first-control-plane");
      expect([first.status, again.status]).toEqual([0, 0]);
      expect(again.stderr).toBe("");
      expect(again.calls).toEqual(first.calls);
      expect(again.progress).toEqual(first.progress);
      expect(readFileSync(join(h.sources, "kubernetes.list"), "utf8")).toBe(`deb [signed-by=${h.keyring}] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n`);
    });
  });

  it("fetches the new minor's signing key and dearmors it (0644) when the keyring is missing, leaving no temporary file", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { keyring: false });
      const r = step(h, "worker");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const tmp = r.calls[0].split(" ").at(-2)!;
      expect(r.calls.slice(0, 2)).toEqual([
        `curl -fsSL --retry 10 --retry-all-errors --retry-delay 5 --max-time 120 -o ${tmp} https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key`,
        `gpg --batch --yes --dearmor -o ${h.keyring} ${tmp}`,
      ]);
      expect(tmp.startsWith(`${h.tmp}/`)).toBe(true);
      expect(r.calls.slice(2)).toEqual(nodeCalls("kubeadm upgrade node"));
      expect(readFileSync(h.keyring, "utf8")).toBe("keyring from -----BEGIN PGP PUBLIC KEY BLOCK-----\nstub\n-----END PGP PUBLIC KEY BLOCK-----");
      expect(statSync(h.keyring).mode & 0o777).toBe(0o644);
      expect(readdirSync(h.tmp)).toEqual([]);
    });
  });

  it("kubeadm that will not install: fails naming it, never upgrades or restarts anything, and leaves the packages held", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker", { STUB_FAIL: "apt-get * install kubeadm=*", STUB_FAIL_CODE: "100" });
      expect(r.status).toBe(100);
      expect(r.stderr).toBe(
        "wg-mesh-upgrade: FAILED at installing kubeadm 1.34.2 (apt-get install kubeadm=1.34.2-* exit 100): check that Kubernetes 1.34.2 exists in pkgs.k8s.io v1.34\n",
      );
      expect(r.calls).toEqual([
        `${APT} update`,
        "apt-mark unhold kubeadm",
        `${APT} install kubeadm=1.34.2-*`,
        "apt-mark hold containerd.io kubelet kubeadm kubectl", // the failed step re-holds
      ]);
      expect(r.stdout).toContain("apt-get: failing as the test asked"); // the command's stderr, in the log
      expect(r.stdout).not.toContain("wg-mesh-upgrade: done");
      expect(installed(h, "kubeadm")).toBe("1.33.6");
    });
  });

  it("a failed kubeadm upgrade apply: kubelet, kubectl and containerd.io stay as they were and nothing is restarted", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const r = step(h, "first-control-plane", { STUB_FAIL: "kubeadm upgrade apply *" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "wg-mesh-upgrade: FAILED at kubeadm upgrade apply (kubeadm upgrade apply -y v1.34.2 exit 1): see kubeadm's output above; fix the cause and run this step again\n",
      );
      expect(r.calls).toEqual([...nodeCalls("kubeadm upgrade apply -y v1.34.2").slice(0, 5), "apt-mark hold containerd.io kubelet kubeadm kubectl"]);
      expect([installed(h, "kubelet"), installed(h, "containerd.io")]).toEqual(["1.33.6", "1.7.25"]);
    });
  });

  it("a failed restart names the unit", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker", { STUB_FAIL: "systemctl restart kubelet" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("wg-mesh-upgrade: FAILED at restarting kubelet (systemctl restart kubelet exit 1): see journalctl -u kubelet\n");
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade node").slice(0, 12));
    });
  });

  it("fails when kubelet still reports the old version after the install", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker", { STUB_APT_SKIPS: "kubelet" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "wg-mesh-upgrade: FAILED at checking kubelet's version (kubelet --version exit 0): it says 'Kubernetes v1.33.6', not 'Kubernetes v1.34.2'; see apt's output above\n",
      );
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade node").slice(0, 13));
      expect(r.stdout).not.toContain("wg-mesh-upgrade: done");
    });
  });

  it("fails when containerd still reports the old version after the install", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker", { STUB_APT_SKIPS: "containerd.io" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "wg-mesh-upgrade: FAILED at checking containerd's version (containerd --version exit 0): it says 'containerd containerd.io 1.7.25 05044ec0a9a75232cad458027ca83437aae3f4da', not version 1.7.27; see apt's output above\n",
      );
      expect(r.calls).toEqual(nodeCalls("kubeadm upgrade node"));
    });
  });

  it("cannot write the sources list: fails naming the file, before apt runs", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "worker", { WG_MESH_APT_SOURCES_DIR: join(dir, "missing") });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `wg-mesh-upgrade: FAILED at pointing apt at pkgs.k8s.io v1.34 (write ${dir}/missing/kubernetes.list exit 1): is ${dir}/missing writable?\n`,
      );
      expect(r.calls).toEqual([]);
    });
  });

  it("any other failure still ends with the one FAILED line, naming the command (mktemp, without a temporary directory)", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { keyring: false });
      const r = step(h, "worker", { TMPDIR: join(dir, "missing") });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("wg-mesh-upgrade: FAILED at pointing apt at pkgs.k8s.io v1.34 (tmp=$(mktemp) exit 1): unexpected failure; see the output above\n");
      expect(r.stdout).toContain("mktemp: failed to create file");
      expect(r.calls).toEqual([]);
    });
  });

  it("refuses, before touching anything, a machine that has not joined, and a control-plane step on a worker", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { joined: false });
      const r = step(h, "worker");
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `wg-mesh-upgrade: FAILED at checking the node (test -f ${dir}/etc/kubernetes/kubelet.conf exit 1): this machine has not joined the cluster; there is nothing to upgrade\n`,
      );
      expect(r.calls).toEqual([]);
      expect(readFileSync(join(h.sources, "kubernetes.list"), "utf8")).toBe(OLD_LIST);
    });
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "control-plane");
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `wg-mesh-upgrade: FAILED at checking the node (test -f ${dir}/etc/kubernetes/manifests/kube-apiserver.yaml exit 1): this node runs no API server: it is a worker, upgrade it with the worker step\n`,
      );
      expect(r.calls).toEqual([]);
    });
  });
});

describe("inputs", () => {
  const good = { UPGRADE_STEP: "worker", K8S_VERSION: "1.34.2", K8S_MINOR: "v1.34", CONTAINERD_VERSION: "1.7.27" };
  const failed = (what: string, hint: string) => `wg-mesh-upgrade: FAILED at checking the inputs (${what} exit 2): ${hint}\n`;
  it.each([
    [
      "K8S_VERSION missing",
      { K8S_VERSION: undefined },
      failed("K8S_VERSION", "K8S_VERSION is not set; expected MAJOR.MINOR.PATCH without a leading v, e.g. 1.34.2"),
    ],
    [
      "K8S_VERSION with a v",
      { K8S_VERSION: "v1.34.2" },
      failed("K8S_VERSION", "K8S_VERSION='v1.34.2' is malformed; expected MAJOR.MINOR.PATCH without a leading v, e.g. 1.34.2"),
    ],
    [
      "CONTAINERD_VERSION malformed",
      { CONTAINERD_VERSION: "1.7" },
      failed("CONTAINERD_VERSION", "CONTAINERD_VERSION='1.7' is malformed; expected MAJOR.MINOR.PATCH, e.g. 1.7.27"),
    ],
    [
      "CONTAINERD_VERSION with a Debian revision",
      { CONTAINERD_VERSION: "1.7.27-1" },
      failed("CONTAINERD_VERSION", "CONTAINERD_VERSION='1.7.27-1' is malformed; expected MAJOR.MINOR.PATCH, e.g. 1.7.27"),
    ],
    [
      "UPGRADE_STEP missing",
      { UPGRADE_STEP: undefined },
      failed("UPGRADE_STEP", "UPGRADE_STEP is not set; expected one of snapshot, etcd-health, first-control-plane, control-plane, worker"),
    ],
    [
      "UPGRADE_STEP unknown",
      { UPGRADE_STEP: "all" },
      failed("UPGRADE_STEP", "UPGRADE_STEP='all' is malformed; expected one of snapshot, etcd-health, first-control-plane, control-plane, worker"),
    ],
    ["K8S_MINOR missing", { K8S_MINOR: "" }, failed("K8S_MINOR", "K8S_MINOR is not set; expected v<major>.<minor> of K8S_VERSION, e.g. v1.34")],
    ["K8S_MINOR of another version", { K8S_MINOR: "v1.33" }, failed("K8S_MINOR", "K8S_MINOR=v1.33 is not K8S_VERSION 1.34.2's minor; expected v1.34")],
    [
      "SNAPSHOT_DIR relative",
      { SNAPSHOT_DIR: "snapshots" },
      failed(
        "SNAPSHOT_DIR",
        "SNAPSHOT_DIR='snapshots' is malformed; expected an absolute path of letters, digits and . _ - /, e.g. /var/lib/wg-mesh/etcd-snapshots",
      ),
    ],
    [
      "SNAPSHOT_DIR with a newline",
      { SNAPSHOT_DIR: "/var/lib/x\n/etc" },
      failed(
        "SNAPSHOT_DIR",
        "SNAPSHOT_DIR=$'/var/lib/x\\n/etc' is malformed; expected an absolute path of letters, digits and . _ - /, e.g. /var/lib/wg-mesh/etcd-snapshots",
      ),
    ],
  ])("%s: exit 2 naming the variable and the expected form, nothing run", (_name, change, message) => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const env: Record<string, string> = { ...good };
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const r = runScript(h, env);
      expect(r.stderr).toBe(message);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.calls).toEqual([]);
    });
  });

  it("the control case: the same inputs, all good, run", () => {
    withTempDir((dir) => {
      const r = runScript(makeHost(dir), good);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });
  });
});

describe("snapshot", () => {
  it("saves a snapshot with etcdctl in the etcd container and moves it into SNAPSHOT_DIR (0700), 0600, printing its path last", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const r = runScript(h, {
        ...upgradeEnvironment({ step: "snapshot", kubernetesVersion: "1.34.2", containerdVersion: "1.7.27", snapshotDir: h.snapshots }),
        STUB_ETCD_IDS: `${ETCD_ID} 9e8d7c6b5a4f3e2d`,
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const files = readdirSync(h.snapshots);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^wg-mesh-snapshot-\d{8}T\d{6}Z\.db$/);
      const file = join(h.snapshots, files[0]);
      expect(r.calls).toEqual(["crictl ps --name etcd --state running -q", `crictl exec ${ETCD_ID} etcdctl ${TLS} snapshot save /var/lib/etcd/${files[0]}`]);
      expect(readFileSync(file, "utf8")).toBe("etcd snapshot bytes");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(h.snapshots).mode & 0o777).toBe(0o700);
      expect(readdirSync(h.etcdData)).toEqual([]); // moved out of etcd's data directory
      expect(r.progress).toEqual([
        "wg-mesh-upgrade: step snapshot: Kubernetes 1.34.2 (pkgs.k8s.io v1.34), containerd.io 1.7.27",
        `wg-mesh-upgrade: etcd snapshot from container ${ETCD_ID}`,
        `wg-mesh-upgrade: snapshot ${file}`,
      ]);
      expect(r.stdout.trimEnd().split("\n").pop()).toBe(`wg-mesh-upgrade: snapshot ${file}`);
    });
  });

  it("keeps the newest five snapshots, removing older ones of its own only, and still prints the new path last", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      mkdirSync(h.snapshots, { recursive: true });
      const older = ["20250101T000000Z", "20250201T000000Z", "20250301T000000Z", "20250401T000000Z", "20250501T000000Z", "20250601T000000Z"].map(
        (t) => `wg-mesh-snapshot-${t}.db`,
      );
      for (const f of [...older, "operator-backup.db"]) writeFileSync(join(h.snapshots, f), "old");
      const r = step(h, "snapshot", { SNAPSHOT_DIR: h.snapshots, STUB_ETCD_IDS: ETCD_ID });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const kept = readdirSync(h.snapshots).sort();
      const fresh = kept.find((f) => !older.includes(f) && f !== "operator-backup.db")!;
      expect(fresh).toMatch(/^wg-mesh-snapshot-\d{8}T\d{6}Z\.db$/);
      expect(kept).toEqual([...older.slice(2), fresh, "operator-backup.db"].sort());
      expect(r.progress.filter((l) => l.includes("removed"))).toEqual(
        older.slice(0, 2).map((f) => `wg-mesh-upgrade: removed old snapshot ${join(h.snapshots, f)}`),
      );
      expect(r.stdout.trimEnd().split("\n").pop()).toBe(`wg-mesh-upgrade: snapshot ${join(h.snapshots, fresh)}`);
    });
  });

  it("fails without a running etcd container", () => {
    withTempDir((dir) => {
      const h = makeHost(dir);
      const r = step(h, "snapshot", { SNAPSHOT_DIR: h.snapshots });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "wg-mesh-upgrade: FAILED at finding the etcd container (crictl ps --name etcd --state running -q exit 0): no running etcd container: run this step on a control plane whose etcd is up\n",
      );
      expect(r.calls).toEqual(["crictl ps --name etcd --state running -q"]);
      expect(existsSync(h.snapshots)).toBe(false);
    });
  });

  it("fails naming etcdctl when the save fails, and leaves no file behind", () => {
    withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      const r = step(h, "snapshot", { SNAPSHOT_DIR: h.snapshots, STUB_ETCD_IDS: ETCD_ID, STUB_FAIL: "crictl exec * snapshot save *" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^wg-mesh-upgrade: FAILED at etcdctl snapshot save \\(crictl exec ${ETCD_ID} etcdctl snapshot save /var/lib/etcd/wg-mesh-snapshot-\\d{8}T\\d{6}Z\\.db exit 1\\): is this node's etcd healthy\\? see etcdctl's output above\\n$`,
        ),
      );
      expect(readdirSync(h.etcdData)).toEqual([]);
      expect(existsSync(h.snapshots)).toBe(false);
    });
  });
});

describe("etcd-health", () => {
  // etcdctl member list -w json, with IDs as large as etcd's (beyond a double's precision).
  const members = (...m: string[]) =>
    `{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"raft_term":4},"members":[${m.join(",")}]}`;
  const voter = (id: string, name: string, ip: string) => `{"ID":${id},"name":"${name}","peerURLs":["https://${ip}:2380"],"clientURLs":["https://${ip}:2379"]}`;
  const CP1 = voter("10276657743932975437", "cp-1", "203.0.113.10");
  const CP2 = voter("9372538179322589801", "cp-2", "203.0.113.11");
  const health = (bad?: string) =>
    JSON.stringify(
      ["203.0.113.10", "203.0.113.11", "203.0.113.12"].map((ip) =>
        ip === bad
          ? { endpoint: `https://${ip}:2379`, health: false, took: "5.0s", error: "context deadline exceeded" }
          : { endpoint: `https://${ip}:2379`, health: true, took: "9.8ms" },
      ),
    );
  const checkCalls = [
    "crictl ps --name etcd --state running -q",
    `crictl exec ${ETCD_ID} etcdctl ${TLS} member list -w json`,
    `crictl exec ${ETCD_ID} etcdctl ${TLS} endpoint health --cluster -w json`,
  ];

  function check(memberList: string, healthList: string, env: Record<string, string> = {}): Result {
    return withTempDir((dir) => {
      const h = makeHost(dir, { controlPlane: true });
      writeFileSync(join(dir, "stub-state/members.json"), memberList);
      writeFileSync(join(dir, "stub-state/health.json"), healthList);
      return step(h, "etcd-health", { STUB_ETCD_IDS: ETCD_ID, ...env });
    });
  }

  it("succeeds when every member is started, voting and healthy", () => {
    const r = check(members(CP1, CP2, voter("4316292185231412262", "cp-3", "203.0.113.12")), health());
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(checkCalls);
    expect(r.progress).toEqual([
      "wg-mesh-upgrade: step etcd-health: Kubernetes 1.34.2 (pkgs.k8s.io v1.34), containerd.io 1.7.27",
      "wg-mesh-upgrade: etcd members started and voting: cp-1,cp-2,cp-3",
      "wg-mesh-upgrade: every etcd endpoint healthy",
      "wg-mesh-upgrade: done etcd-health members=cp-1,cp-2,cp-3",
    ]);
  });

  it("fails naming a learner", () => {
    const learner = `{"ID":4316292185231412262,"name":"cp-3","peerURLs":["https://203.0.113.12:2380"],"clientURLs":["https://203.0.113.12:2379"],"isLearner":true}`;
    const r = check(members(CP1, CP2, learner), health());
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `wg-mesh-upgrade: FAILED at checking etcd's members (crictl exec ${ETCD_ID} etcdctl member list -w json exit 0): not every member is started and voting: cp-3 (learner); wait until they are before upgrading another control plane\n`,
    );
    expect(r.calls).toEqual(checkCalls.slice(0, 2));
  });

  it("fails naming a member that has not started, by its peer URL", () => {
    const unstarted = `{"ID":4316292185231412262,"peerURLs":["https://203.0.113.12:2380"],"isLearner":true}`;
    const r = check(members(CP1, CP2, unstarted), health());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("not every member is started and voting: https://203.0.113.12:2380 (not started);");
  });

  it("fails naming the unhealthy member when endpoint health fails", () => {
    const r = check(members(CP1, CP2, voter("4316292185231412262", "cp-3", "203.0.113.12")), health("203.0.113.11"), { STUB_UNHEALTHY: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `wg-mesh-upgrade: FAILED at checking etcd's health (crictl exec ${ETCD_ID} etcdctl endpoint health --cluster -w json exit 1): unhealthy: cp-2 (https://203.0.113.11:2379); do not upgrade another control plane until every member is healthy\n`,
    );
    expect(r.stdout).toContain("Error: unhealthy cluster");
    expect(r.calls).toEqual(checkCalls);
  });
});

describe("the shipped script", () => {
  it.each([
    ["upgradeNode.sh", readFileSync(join(__dirname, "upgradeNode.sh"), "utf8")],
    ["UPGRADE_NODE_SCRIPT (as shipped)", UPGRADE_NODE_SCRIPT],
  ])("%s passes real shellcheck", (_name, text) => {
    expect(shellcheck(text)).toEqual({ status: 0, output: "" });
  });

  it("shellcheck can fail: a known-bad snippet is rejected", () => {
    const r = shellcheck("#!/usr/bin/env bash\nfor f in $(ls *.txt); do rm $f; done\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/SC2045|SC2086/);
  });

  it("is the file without its comment lines, and starts with the shebang and set -euo pipefail", () => {
    const file = readFileSync(join(__dirname, "upgradeNode.sh"), "utf8");
    expect(file.startsWith("#!/usr/bin/env bash\nset -euo pipefail\n")).toBe(true);
    expect(UPGRADE_NODE_SCRIPT.startsWith("#!/usr/bin/env bash\nset -euo pipefail\n")).toBe(true);
    const kept = file.split("\n").filter((l, i) => i === 0 || (!/^\s*#/.test(l) && l.trim() !== ""));
    expect(UPGRADE_NODE_SCRIPT).toBe(`${kept.join("\n")}\n`);
  });

  it("defaults to the paths the boot uses and the TS module names", () => {
    const packages = readFileSync(join(__dirname, "../bootstrap/packages.sh"), "utf8");
    const bootKeyring = /^K8S_KEYRING=(\S+)$/m.exec(packages)![1];
    expect(UPGRADE_NODE_SCRIPT).toContain(`K8S_KEYRING="\${WG_MESH_APT_KEYRING:-${bootKeyring}}"`);
    expect(UPGRADE_NODE_SCRIPT).toContain(`SNAPSHOT_DIR="\${SNAPSHOT_DIR:-${DEFAULT_SNAPSHOT_DIR}}"`);
    expect(UPGRADE_NODE_SCRIPT).toContain('SOURCES_DIR="${WG_MESH_APT_SOURCES_DIR:-/etc/apt/sources.list.d}"');
    expect(UPGRADE_NODE_SCRIPT).toContain('KUBERNETES_DIR="${WG_MESH_KUBERNETES_DIR:-/etc/kubernetes}"');
    expect(UPGRADE_NODE_SCRIPT).toContain('ETCD_DATA_DIR="${WG_MESH_ETCD_DATA_DIR:-/var/lib/etcd}"');
  });
});

describe("upgradeEnvironment", () => {
  it("gives the step, the versions and the pkgs.k8s.io minor, and SNAPSHOT_DIR only when asked", () => {
    expect(upgradeEnvironment({ step: "worker", kubernetesVersion: "1.34.2", containerdVersion: "1.7.27" })).toEqual({
      UPGRADE_STEP: "worker",
      K8S_VERSION: "1.34.2",
      K8S_MINOR: "v1.34",
      CONTAINERD_VERSION: "1.7.27",
    });
    expect(upgradeEnvironment({ step: "snapshot", kubernetesVersion: "1.35.0", containerdVersion: "2.1.4", snapshotDir: "/srv/etcd-snapshots" })).toEqual({
      UPGRADE_STEP: "snapshot",
      K8S_VERSION: "1.35.0",
      K8S_MINOR: "v1.35",
      CONTAINERD_VERSION: "2.1.4",
      SNAPSHOT_DIR: "/srv/etcd-snapshots",
    });
  });

  it.each([
    [
      { step: "all" as UpgradeStep },
      'upgradeEnvironment: step = "all" is invalid: use one of snapshot, etcd-health, first-control-plane, control-plane, worker',
    ],
    [
      { kubernetesVersion: "v1.34.2" },
      'upgradeEnvironment: kubernetesVersion = "v1.34.2" is invalid: use "MAJOR.MINOR.PATCH" without a leading v, e.g. "1.34.2"',
    ],
    [{ containerdVersion: "1.7.27-1" }, 'upgradeEnvironment: containerdVersion = "1.7.27-1" is invalid: use "MAJOR.MINOR.PATCH", e.g. "1.7.27"'],
    [{ snapshotDir: "snapshots" }, 'upgradeEnvironment: snapshotDir = "snapshots" is invalid: use an absolute path of letters, digits and . _ - /'],
  ])("refuses %j, naming the field", (change, message) => {
    expect(() => upgradeEnvironment({ step: "worker", kubernetesVersion: "1.34.2", containerdVersion: "1.7.27", ...change })).toThrow(message);
  });
});
