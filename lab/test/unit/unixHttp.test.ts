// The lab's requests to its namespace helpers never reuse a connection: with keep-alive, a request
// that picks up an idle connection just as the helper's server closes it (after its keep-alive
// timeout) fails with EPIPE, which once failed the API-outage fault when traffic resumed.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unixRequest } from "../../src/unixHttp";

describe("unixRequest", () => {
  let dir: string;
  let server: Server;
  let connections = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "unix-http-"));
    server = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url: req.url })));
    server.keepAliveTimeout = 60_000; // the server would keep every connection: only the client decides
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(join(dir, "s.sock"), resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens a new connection for every request", async () => {
    const socket = join(dir, "s.sock");
    for (let i = 0; i < 3; i++) expect(await unixRequest(socket, "GET", `/r${i}`)).toEqual({ url: `/r${i}` });
    expect(connections).toBe(3);
  });
});
