// The package half of the boot script (packages.sh) in real bash with real gpg and curl:
// a repository key is trusted only with the pinned fingerprint, and downloads retry.
import { chmodSync, readFileSync, statSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireTool, run, withBootstrap, withTempDir } from "../../../test/tools";

beforeAll(() => {
  for (const [tool, pkg] of [
    ["gpg", "gnupg"],
    ["curl", "curl"],
  ])
    requireTool(tool, pkg);
});

/** A real OpenPGP key made with gpg in a throwaway home; returns the armored file and fingerprint. */
function makeKey(dir: string, name: string): { file: string; fingerprint: string } {
  const home = join(dir, `gnupg-${name}`);
  const gpg = (args: string[]) => run("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args]);
  run("mkdir", ["-m", "700", "-p", home]);
  expect(gpg(["--quick-gen-key", `${name} <${name}@example.com>`, "ed25519", "sign", "never"]).status).toBe(0);
  const file = join(dir, `${name}.asc`);
  expect(gpg(["--armor", "--output", file, "--export", `${name}@example.com`]).status).toBe(0);
  const colons = gpg(["--with-colons", "--fingerprint", `${name}@example.com`]).output;
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1];
  run("gpgconf", ["--homedir", home, "--kill", "all"]); // no gpg-agent left behind
  return { file, fingerprint };
}

describe("install_keyring", () => {
  it("installs a key whose fingerprint is the pinned one, as a binary keyring apt can read", () => {
    withTempDir((dir) => {
      const key = makeKey(dir, "repo");
      const keyring = join(dir, "keyrings", "repo.gpg");
      const r = withBootstrap(`install_keyring "file://$KEY" "$KEYRING" "$FPR" && echo installed`, {
        KEY: key.file,
        KEYRING: keyring,
        FPR: key.fingerprint,
        GNUPGHOME: join(dir, "gnupg-repo"),
      });
      expect(r.stdout.trim()).toBe("installed");
      expect(statSync(keyring).mode & 0o777).toBe(0o644);
      expect(readFileSync(keyring)[0]).not.toBe("-".charCodeAt(0)); // dearmored, not ASCII armor
    });
  });

  it("refuses a key with any other fingerprint, and writes no keyring", () => {
    withTempDir((dir) => {
      const key = makeKey(dir, "impostor");
      const pinned = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88";
      const keyring = join(dir, "keyrings", "repo.gpg");
      const r = withBootstrap(`install_keyring "file://$KEY" "$KEYRING" "$FPR" && echo installed`, {
        KEY: key.file,
        KEYRING: keyring,
        FPR: pinned,
        GNUPGHOME: join(dir, "gnupg-impostor"),
      });
      expect(r.status).not.toBe(0);
      expect(r.stdout).not.toContain("installed");
      expect(r.stderr).toContain(`has fingerprint ${key.fingerprint}, not the pinned ${pinned}; refusing to trust it`);
      expect(existsSync(keyring)).toBe(false);
    });
  });

  it("fails, without a keyring, when the key cannot be downloaded", () => {
    withTempDir((dir) => {
      const keyring = join(dir, "repo.gpg");
      const r = withBootstrap(`download() { return 22; }; install_keyring "file:///nonexistent" "$KEYRING" "" && echo installed`, { KEYRING: keyring });
      expect(r.status).not.toBe(0);
      expect(existsSync(keyring)).toBe(false);
    });
  });
});

it("pins Docker's published repository key fingerprint and installs containerd.io at the configured version", () => {
  const lib = readFileSync(join(__dirname, "packages.sh"), "utf8");
  expect(lib).toMatch(/^DOCKER_KEY_FINGERPRINT=9DC858229FC7DD38854AE2D88D81803C0EBFCD88$/m);
  expect(lib).toContain('"containerd.io=${CONTAINERD_VERSION}-*"');
  expect(lib).toMatch(/signed-by=\$\{DOCKER_KEYRING\}/);
});

describe("ensure_nft", () => {
  // apt_get and retry stubbed; PATH decides whether nft is there.
  const stubs = 'apt_get() { echo "apt_get $*"; }; retry() { shift 2; "$@"; }';
  it("installs nftables when nft is missing", () => {
    withTempDir((dir) => {
      const r = withBootstrap(`${stubs}; PATH="$EMPTY:/usr/bin:/bin"; hash -r; command -v nft && exit 9; ensure_nft`, { EMPTY: dir });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe("apt_get install nftables");
      expect(r.stderr).toContain("installing nftables (nft loads the egress guard)");
    });
  });

  it("installs nothing when nft is there", () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, "nft"), "#!/bin/sh\n");
      chmodSync(join(dir, "nft"), 0o755);
      const r = withBootstrap(`${stubs}; PATH="$BIN:$PATH"; ensure_nft`, { BIN: dir });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("");
    });
  });

  it("fails the bootstrap when nftables cannot be installed", () => {
    withTempDir((dir) => {
      const r = withBootstrap(`apt_get() { return 100; }; retry() { shift 2; "$@"; }; PATH="$EMPTY:/usr/bin:/bin"; hash -r; ensure_nft`, { EMPTY: dir });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("could not install nftables: the egress guard cannot be loaded without nft");
    });
  });
});

it("waits for egress, and says so when it never comes", () => {
  const r = withBootstrap(`has_egress() { return 1; }; sleep() { :; }; wait_for_egress`);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/attempt 119\/120 failed: has_egress/);
  expect(r.stderr).toContain("no egress to https://download.docker.com/linux/ubuntu/gpg after 10 minutes");
});
