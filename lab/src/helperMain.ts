// Child process entry of the per-namespace helper (every node and pod namespace runs one):
//   node helperMain.js --control /path/x.sock --tcp 5000,2379,10250
// It serves TCP echo on the given ports (the flows' servers) and, on its unix socket, runs
// probes from inside its namespace (the flows' clients) and HTTP GETs (the agents' /readyz).
import { rmSync } from "node:fs";
import { createServer, get } from "node:http";
import { connect, createServer as createTcpServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { control: { type: "string" }, tcp: { type: "string", default: "" } } });
if (!values.control) {
  process.stderr.write("usage: helperMain --control socket [--tcp port,port]\n");
  process.exit(2);
}

interface ProbeRequest {
  host: string;
  port: number;
  timeoutMs?: number;
}
interface ProbeResult {
  ok: boolean;
  ms: number;
  /** Client port, so the capture can tell this probe from other traffic between the same hosts. */
  localPort?: number;
  error?: string;
}

/** One TCP exchange: connect, send a line, succeed on the first byte echoed back. */
function probe(p: ProbeRequest): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: p.host, port: p.port });
    let localPort: number | undefined;
    socket.on("connect", () => (localPort = socket.localPort));
    const done = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      localPort ??= socket.localPort;
      socket.destroy();
      resolve({ ok, ms: Date.now() - started, localPort, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => done(false, "timeout"), p.timeoutMs ?? 1000);
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.0\r\n\r\n"));
    socket.once("data", () => done(true));
    socket.on("error", (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
  });
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
  });
}

const listening: number[] = [];
const skipped: string[] = [];
const ports = (values.tcp ?? "").split(",").filter(Boolean).map(Number);
const control = values.control;

/** A port already taken (the API stand-in's 6443 on the control plane) is skipped, not fatal. */
const listenAll = () =>
  Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve) => {
          const server = createTcpServer((s) => {
            s.on("error", () => s.destroy());
            s.pipe(s);
          });
          server.once("error", (e: NodeJS.ErrnoException) => {
            skipped.push(`${port}: ${e.code}`);
            resolve();
          });
          server.listen(port, "0.0.0.0", () => {
            listening.push(port);
            resolve();
          });
        }),
    ),
  );

const serveControl = () =>
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      const reply = (v: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (req.url === "/probes") void Promise.all((body.probes as ProbeRequest[]).map(probe)).then(reply);
      else if (req.url === "/http-get") void httpGet(body.url, body.timeoutMs ?? 1000).then(reply);
      else if (req.url === "/status") reply({ listening, skipped });
      else res.writeHead(404).end("{}");
    });
  }).listen(control, () => process.stdout.write(`ready ${JSON.stringify({ listening, skipped })}\n`));

rmSync(control, { force: true });
void listenAll().then(serveControl);
