// The boot script's secret handling (secrets.sh) in real bash, with the cloud CLIs stubbed:
// `aws` and `curl` are scripts on PATH that answer as the real ones do (AWS CLI errors and
// exit codes, Secret Manager's HTTP answers, the GCE metadata server, cluster-info through
// the local proxy), and `kubeadm` prints the token as the real one does. Checked: transient
// errors are retried, access denied is not and says what to do, and no secret reaches the
// console, a command line or a file others can read.
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { exampleNodes, exampleNodeTable } from "../../../test/fixtures/bootstrap";
import { bootGuardNodes, packBootGuardNodes } from "./bootGuard";
import { renderInitConfig, renderJoinConfig } from "./kubeadmConfig";
import { requireTool, withBootstrap, withTempDir, type BashResult } from "../../../test/tools";

beforeAll(() => {
  for (const [tool, pkg] of [
    ["bash", "bash"],
    ["jq", "jq"],
    ["sed", "sed"],
    ["base64", "coreutils"],
    ["gunzip", "gzip"],
  ])
    requireTool(tool, pkg);
});

const NEW = "n3wtok.0123456789abcdef";
const OLD = "0ldtok.fedcba9876543210";
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const doc = (...tokens: string[]) => JSON.stringify({ tokens: tokens.map((token, i) => ({ token, expires: inHours(4 - i) })) });

const AWS_STUB = `#!/bin/bash
n=$(( $(cat "$STUB/aws.calls" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB/aws.calls"
echo "aws $*" >>"$STUB/argv"
read -r -a plan <<<"$STUB_PLAN"; outcome=\${plan[$((n-1))]:-\${plan[-1]}}
case "$outcome" in
  transient) echo 'Could not connect to the endpoint URL: "https://secretsmanager.eu-west-1.amazonaws.com/"' >&2; exit 255 ;;
  denied) echo 'An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:sts::123456789012:assumed-role/demo-worker/i-0abc is not authorized to perform: secretsmanager:GetSecretValue on resource: demo/join-token' >&2; exit 254 ;;
  ok) cat "$STUB/secret" ;;
esac
`;

const CURL_STUB = `#!/bin/bash
echo "curl $*" >>"$STUB/argv"
url="\${@: -1}"
case "$url" in
  */computeMetadata/v1/instance/service-accounts/default/token) echo '{"access_token":"ya29.stub-oauth-token","expires_in":3599}' ;;
  https://secretmanager.googleapis.com/*)
    cat >>"$STUB/curl.stdin"
    n=$(( $(cat "$STUB/gcp.calls" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB/gcp.calls"
    read -r -a plan <<<"$STUB_PLAN"; outcome=\${plan[$((n-1))]:-\${plan[-1]}}
    case "$outcome" in
      transient) printf '%s\\n%s' '{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}' 503 ;;
      denied) printf '%s\\n%s' '{"error":{"code":403,"message":"Permission denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}' 403 ;;
      ok) printf '{"name":"x","payload":{"data":"%s"}}\\n200' "$(base64 -w0 <"$STUB/secret")" ;;
    esac ;;
  */api/v1/namespaces/kube-public/configmaps/cluster-info)
    jq -n --arg ids "$STUB_SIGNED" '{data: ({kubeconfig: "x"} + ([$ids | split(" ")[] | select(. != "") | {key: ("jws-kubeconfig-" + .), value: "sig"}] | from_entries))}' ;;
  *) echo "unexpected curl $url" >&2; exit 7 ;;
esac
`;

// Prints what the real kubeadm prints (the token, a join command) and keeps what it was given.
const KUBEADM_STUB = `#!/bin/bash
echo "kubeadm $*" >>"$STUB/argv"
config="\${3:-}"
cp "$config" "$STUB/kubeadm.config"; stat -c %a "$config" >"$STUB/kubeadm.config.mode"
token=$(sed -n 's/^ *token: //p' "$config" | head -n1 | tr -d '"')
echo "[bootstrap-token] Using token: $token"
echo "kubeadm join 127.0.0.1:7445 --token $token --discovery-token-ca-cert-hash sha256:abc"
`;

interface Env {
  cloud: "aws" | "gcp";
  role?: "worker" | "control-plane";
  plan: string;
  secret: string;
  signed?: string[];
}

/** Runs `body` after sourcing the boot script, with stubs on PATH, in a scratch root. */
function withStubs<T>(env: Env, body: string, check: (r: BashResult, dir: string) => T): T {
  return withTempDir((dir) => {
    const bin = join(dir, "bin");
    const stub = join(dir, "stub");
    mkdirSync(bin);
    mkdirSync(stub);
    for (const [name, content] of [
      ["aws", AWS_STUB],
      ["curl", CURL_STUB],
      ["kubeadm", KUBEADM_STUB],
    ]) {
      writeFileSync(join(bin, name), content);
      chmodSync(join(bin, name), 0o755);
    }
    writeFileSync(join(stub, "secret"), env.secret);
    const node = exampleNodes[`${env.cloud} ${env.role === "control-plane" ? "first control-plane" : "worker"}`];
    writeFileSync(join(dir, "kubeadm-join.yaml"), renderJoinConfig(node));
    if (node.mayInit) writeFileSync(join(dir, "kubeadm-init.yaml"), renderInitConfig(node));
    const r = withBootstrap(body, {
      PATH: `${bin}:${process.env.PATH}`,
      STUB: stub,
      STUB_PLAN: env.plan,
      STUB_SIGNED: (env.signed ?? []).join(" "),
      CLOUD: env.cloud,
      ROLE: env.role ?? "worker",
      CLUSTER_NAME: "demo",
      CA_CERT: join(dir, "ca.crt"),
      API_PROXY: "127.0.0.1:7445",
      KUBEADM_JOIN_CONFIG: join(dir, "kubeadm-join.yaml"),
      KUBEADM_INIT_CONFIG: node.mayInit ? join(dir, "kubeadm-init.yaml") : "",
      JOIN_TOKEN_AWS_REGION: "eu-west-1",
      JOIN_TOKEN_AWS_SECRET_ID: "demo/join-token",
      JOIN_TOKEN_GCP_PROJECT: "demo-project-123",
      JOIN_TOKEN_GCP_SECRET_ID: "demo-join-token",
      BOOT_GUARD_AWS_REGION: "eu-west-1",
      BOOT_GUARD_AWS_SECRET_ID: "demo/boot-guard-nodes",
      BOOT_GUARD_GCP_PROJECT: "demo-project-123",
      BOOT_GUARD_GCP_SECRET_ID: "demo-boot-guard-nodes",
      WG_MESH_BOOT_NODES: join(dir, "etc", "guard-nodes.nft"),
      WG_MESH_RUN_DIR: join(dir, "run"),
      WG_MESH_STORE_DELAY: "0",
      WG_MESH_TOKEN_DELAY: "0",
      WG_MESH_TOKEN_ROUNDS: "2",
      WG_MESH_STORE_ATTEMPTS: "5",
      WG_MESH_GCP_METADATA: "http://metadata.google.internal",
    });
    return check(r, dir);
  });
}

const calls = (dir: string, cloud: string) => Number(readFileSync(join(dir, "stub", `${cloud}.calls`), "utf8"));

/** Every file under `dir` that contains `needle` and that others may read. */
function worldReadableWith(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if ((statSync(p).mode & 0o004) !== 0 && readFileSync(p, "utf8").includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

describe.each(["aws", "gcp"] as const)("store_fetch on %s", (cloud) => {
  it("retries transient failures and returns the secret on stdout only", () => {
    withStubs({ cloud, plan: "transient transient ok", secret: doc(NEW) }, "store_fetch join-token", (r, dir) => {
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).tokens[0].token).toBe(NEW);
      expect(calls(dir, cloud)).toBe(3);
      expect(r.stderr).toContain("reading the join-token secret");
      expect(r.stderr).toContain("(attempt 2/5)");
      expect(r.stderr).not.toContain(NEW);
    });
  });

  it("stops at access denied, with the store, the secret and what to do, and never retries", () => {
    withStubs({ cloud, plan: "denied ok", secret: doc(NEW) }, 'store_fetch join-token || echo "status=$?"', (r, dir) => {
      expect(r.stdout.trim()).toBe("status=3");
      expect(calls(dir, cloud)).toBe(1);
      const where = cloud === "aws" ? "demo/join-token from AWS Secrets Manager" : "demo-join-token from GCP Secret Manager";
      expect(r.stderr).toContain(`ACCESS DENIED reading the join-token secret ${where} with this instance's identity`);
      expect(r.stderr).toContain("run `pulumi up`");
    });
  });

  it("gives up after its attempts on a store that never answers", () => {
    withStubs({ cloud, plan: "transient", secret: doc(NEW) }, 'store_fetch join-token || echo "status=$?"', (r, dir) => {
      expect(r.stdout.trim()).toBe("status=1");
      expect(calls(dir, cloud)).toBe(5);
      expect(r.stderr).toContain("could not be read");
    });
  });
});

it("the GCP access token goes to curl on stdin, never on its command line", () => {
  withStubs({ cloud: "gcp", plan: "ok", secret: doc(NEW) }, "store_fetch join-token >/dev/null", (r, dir) => {
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "stub", "curl.stdin"), "utf8")).toContain("Authorization: Bearer ya29.stub-oauth-token");
    expect(readFileSync(join(dir, "stub", "argv"), "utf8")).not.toContain("ya29.stub-oauth-token");
  });
});

describe.each(["aws", "gcp"] as const)("the boot guard's node addresses on %s", (cloud) => {
  const document = bootGuardNodes(exampleNodeTable, exampleNodes["aws worker"].guard);

  it("are read from the boot-guard secret, unpacked and written where guard.sh reads them", () => {
    withStubs({ cloud, plan: "transient ok", secret: packBootGuardNodes(document) }, "install_boot_guard_nodes", (r, dir) => {
      expect(r.status).toBe(0);
      expect(readFileSync(join(dir, "etc", "guard-nodes.nft"), "utf8")).toBe(document);
      expect(readFileSync(join(dir, "stub", "argv"), "utf8")).toContain(
        cloud === "aws" ? "--secret-id demo/boot-guard-nodes" : "/secrets/demo-boot-guard-nodes/versions/latest:access",
      );
      expect(calls(dir, cloud)).toBe(2);
    });
  });

  it("a value that does not unpack ends the script, keeping the previous file", () => {
    withStubs(
      { cloud, plan: "ok", secret: "not gzip at all" },
      `mkdir -p "$(dirname "$WG_MESH_BOOT_NODES")"; echo previous >"$WG_MESH_BOOT_NODES"; install_boot_guard_nodes`,
      (r, dir) => {
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("FATAL: the boot-guard secret does not unpack (gzip, then base64)");
        expect(readFileSync(join(dir, "etc", "guard-nodes.nft"), "utf8")).toBe("previous\n");
      },
    );
  });

  it("access denied ends the script saying so", () => {
    withStubs({ cloud, plan: "denied", secret: "" }, "install_boot_guard_nodes", (r) => {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("ACCESS DENIED reading the boot-guard secret");
      expect(r.stderr).toContain("FATAL: cannot read the node addresses (access denied; see above)");
    });
  });
});

describe.each(["aws", "gcp"] as const)("kubeadm with a fetched token on %s", (cloud) => {
  it("joins with the newest token the cluster accepts; nothing secret on the console, a command line or a readable file", () => {
    // The store already holds a new token the cluster does not accept yet, and the old one it does.
    withStubs({ cloud, plan: "ok", secret: doc(NEW, OLD), signed: [OLD.slice(0, 6)] }, "kubeadm_with_token join", (r, dir) => {
      expect(r.status).toBe(0);
      const given = readFileSync(join(dir, "stub", "kubeadm.config"), "utf8");
      expect(given).toContain(`token: "${OLD}"`); // the real token reached kubeadm ...
      expect(given).not.toContain("@@WG_MESH");
      expect(readFileSync(join(dir, "stub", "kubeadm.config.mode"), "utf8").trim()).toBe("600"); // ... in a private file
      expect(existsSync(join(dir, "run", "kubeadm-join.yaml"))).toBe(false); // removed afterwards
      expect((statSync(join(dir, "run")).mode & 0o777).toString(8)).toBe("700");
      const console = r.stdout + r.stderr;
      expect(console).toContain("[bootstrap-token] Using token: <redacted-token>");
      for (const t of [NEW, OLD]) {
        expect(console).not.toContain(t);
        expect(console).not.toContain(t.slice(7));
        expect(readFileSync(join(dir, "stub", "argv"), "utf8")).not.toContain(t.slice(7));
        expect(worldReadableWith(join(dir, "run"), t.slice(7))).toEqual([]);
      }
    });
  });

  it("the console check can fail: without redaction the token would be there", () => {
    withStubs({ cloud, plan: "ok", secret: doc(OLD), signed: [OLD.slice(0, 6)] }, "redact() { cat; }; kubeadm_with_token join", (r) => {
      expect(r.stdout + r.stderr).toContain(OLD);
    });
  });

  it("waits while the cluster accepts none of the stored tokens, then fails naming the token ids", () => {
    withStubs({ cloud, plan: "ok", secret: doc(NEW), signed: ["zzzzzz"] }, 'kubeadm_with_token join || echo "status=$?"', (r, dir) => {
      expect(r.stdout.trim()).toBe("status=1");
      expect(r.stderr).toContain(`the store holds token id(s) ${NEW.slice(0, 6)}, the cluster accepts zzzzzz`);
      expect(r.stderr).toContain("no usable join token after 2 rounds");
      expect(existsSync(join(dir, "stub", "kubeadm.config"))).toBe(false); // kubeadm never ran
    });
  });

  it("ends the script when the node's identity may not read the tokens (systemd retries the unit)", () => {
    withStubs({ cloud, plan: "denied", secret: doc(NEW) }, "kubeadm_with_token join; echo unreachable", (r) => {
      expect(r.status).toBe(1);
      expect(r.stdout).not.toContain("unreachable");
      expect(r.stderr).toContain("FATAL: cannot read the join token (access denied; see above)");
    });
  });

  it("inits with the newest token, expiring when the store says (the TTL left, in seconds)", () => {
    withStubs({ cloud, role: "control-plane", plan: "ok", secret: doc(NEW, OLD) }, "kubeadm_with_token init", (r, dir) => {
      expect(r.status).toBe(0);
      const given = readFileSync(join(dir, "stub", "kubeadm.config"), "utf8");
      expect(given).toContain(`token: "${NEW}"`);
      const ttl = Number(/ttl: "(\d+)s"/.exec(given)![1]);
      expect(ttl).toBeGreaterThan(4 * 3600 - 120);
      expect(ttl).toBeLessThanOrEqual(4 * 3600);
      expect(readFileSync(join(dir, "stub", "argv"), "utf8")).toMatch(/kubeadm init --config \S+\/run\/kubeadm-init\.yaml --skip-phases=addon\/kube-proxy/);
      expect(r.stdout + r.stderr).not.toContain(NEW);
    });
  });
});

it("skips an expired or malformed token", () => {
  const stale = JSON.stringify({
    tokens: [
      { token: NEW, expires: inHours(-1) },
      { token: "not-a-token", expires: inHours(3) },
      { token: OLD, expires: inHours(3) },
    ],
  });
  withStubs({ cloud: "aws", role: "control-plane", plan: "ok", secret: stale }, "kubeadm_with_token init", (r, dir) => {
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "stub", "kubeadm.config"), "utf8")).toContain(`token: "${OLD}"`);
  });
});

it("redact hides anything shaped like a kubeadm token and nothing else", () => {
  withStubs({ cloud: "aws", plan: "ok", secret: "" }, `printf '%s\\n' "join --token ${OLD} --discovery-token-ca-cert-hash sha256:abc" | redact`, (r) => {
    expect(r.stdout).toBe("join --token <redacted-token> --discovery-token-ca-cert-hash sha256:abc\n");
  });
});
