// /healthz (process alive), /readyz (a reconcile has applied cleanly), /metrics (Prometheus).
import { createServer, type Server } from "node:http";
import type { HostPort } from "./settings";
import type { Metrics } from "./metrics";

export interface HealthSource {
  ready(): boolean;
}

export function startHttp(addresses: { health: HostPort; metrics: HostPort }, health: HealthSource, metrics: Metrics): Promise<Server[]> {
  const same = addresses.health.host === addresses.metrics.host && addresses.health.port === addresses.metrics.port;
  const targets = same
    ? [{ at: addresses.health, paths: ["health", "metrics"] }]
    : [
        { at: addresses.health, paths: ["health"] },
        { at: addresses.metrics, paths: ["metrics"] },
      ];
  return Promise.all(
    targets.map(
      ({ at, paths }) =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer((req, res) => {
            const url = req.url?.split("?")[0];
            if (paths.includes("health") && url === "/healthz") {
              res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
            } else if (paths.includes("health") && url === "/readyz") {
              const ok = health.ready();
              res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready\n" : "not ready: no successful reconcile yet\n");
            } else if (paths.includes("metrics") && url === "/metrics") {
              metrics.registry.metrics().then(
                (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
                (e: Error) => res.writeHead(500).end(e.message),
              );
            } else {
              res.writeHead(404).end();
            }
          });
          server.once("error", reject);
          server.listen(at.port, at.host, () => resolve(server));
        }),
    ),
  );
}
