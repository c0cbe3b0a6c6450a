// `kubectl exec` without kubectl: runs a command in a pod's container through the API server's
// exec subresource over WebSocket (the channel protocol, v5.channel.k8s.io or v4.channel.k8s.io):
// each binary message's first byte is its stream (1 stdout, 2 stderr, 3 the final Status), the
// rest its bytes. The Status says Success, or Failure with reason NonZeroExitCode and the exit
// code among its causes. The TLS and credentials are the kubeconfig's (agent/src/kube/config.ts).
import WebSocket from "ws";
import type { KubeTarget } from "../src/kube/config";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  /** The whole exec (connect, run, close) gives up after this long. */
  timeoutMs: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** The command's exit code; undefined when it could not be run or its end is unknown (see error). */
  exitCode?: number;
  error?: string;
}

/** The exit code a v4/v5 Status carries (0 on Success), or undefined with the Status's message. */
export function exitCodeOf(status: unknown): { exitCode?: number; message?: string } {
  const s = status as { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  if (s?.status === "Success") return { exitCode: 0 };
  const cause = s?.details?.causes?.find((c) => c.reason === "ExitCode");
  if (s?.reason === "NonZeroExitCode" && cause && /^\d+$/.test(cause.message ?? "")) return { exitCode: Number(cause.message) };
  return { message: s?.message ?? JSON.stringify(status) };
}

export function execUrl(server: URL, r: Pick<ExecRequest, "namespace" | "pod" | "container" | "command">): URL {
  const url = new URL(`/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods/${encodeURIComponent(r.pod)}/exec`, server);
  url.protocol = server.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("container", r.container);
  url.searchParams.set("stdout", "true");
  url.searchParams.set("stderr", "true");
  for (const c of r.command) url.searchParams.append("command", c);
  return url;
}

export async function execInPod(target: KubeTarget, r: ExecRequest): Promise<ExecResult> {
  const headers: Record<string, string> = {};
  const token = await target.token?.();
  if (token) headers.authorization = `Bearer ${token}`;
  else if (target.basic) headers.authorization = `Basic ${Buffer.from(`${target.basic.username}:${target.basic.password}`).toString("base64")}`;
  // ws hands these to https.request; servername (the kubeconfig's tls-server-name) is a tls option its types leave out.
  const tls: WebSocket.ClientOptions & { servername?: string } = {
    headers,
    ca: target.ca,
    cert: target.cert,
    key: target.key,
    rejectUnauthorized: target.verifyTls,
    servername: target.tlsServerName,
    handshakeTimeout: r.timeoutMs,
  };
  const ws = new WebSocket(execUrl(target.server, r), EXEC_PROTOCOLS, tls);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const text = () => ({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
  return new Promise<ExecResult>((resolve) => {
    let status: { exitCode?: number; message?: string } | undefined;
    const done = (result: Partial<ExecResult>) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => undefined); // a late socket error after we are done is nobody's business
      ws.terminate();
      resolve({ ...text(), ...result });
    };
    const timer = setTimeout(() => done({ error: `no end within ${r.timeoutMs} ms` }), r.timeoutMs);
    // The API server refused the upgrade (no such pod, forbidden, ...): its answer is a Status.
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let message = Buffer.concat(chunks).toString("utf8").slice(0, 300);
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // not a Status: keep the text
        }
        done({ error: `exec refused: HTTP ${res.statusCode} ${message}` });
      });
    });
    ws.on("error", (e) => done({ error: `exec: ${e.message}` }));
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary || data.length === 0) return;
      const body = data.subarray(1);
      if (data[0] === STDOUT) out.push(body);
      else if (data[0] === STDERR) err.push(body);
      else if (data[0] === STATUS) {
        try {
          status = exitCodeOf(JSON.parse(body.toString("utf8")));
        } catch {
          status = { message: `unreadable status: ${body.toString("utf8").slice(0, 200)}` };
        }
      }
    });
    ws.on("close", () => {
      if (!status) done({ error: "the exec stream closed without a status (the container or the connection went away)" });
      else if (status.exitCode !== undefined) done({ exitCode: status.exitCode });
      else done({ error: `exec failed: ${status.message}` });
    });
  });
}
