// The agent's cluster view through informers.ts, against the lab's API stand-in over a kubeconfig
// (plain http, insecure-skip-tls-verify, as the lab runs it): "synced" only after both lists
// succeeded, the last known state kept through an outage, a missing CiliumNode CRD counted as
// no CiliumNodes, and the bulk of real objects dropped before caching.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { loadKubeConfig, startInformers } from "../../src/informers";
import { Metrics } from "../../src/metrics";
import { freePort, sleep, StandIn, until } from "./kube/standIn";

const log = pino({ level: "silent" });
const tuning = { minBackoffMs: 20, maxBackoffMs: 100 };

function kubeconfigFor(port: number): string {
  const file = join(tmpdir(), `informers-test-${process.pid}-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      "current-context": "lab",
      contexts: [{ name: "lab", context: { cluster: "lab", user: "lab" } }],
      clusters: [{ name: "lab", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "lab", user: {} }],
    }),
  );
  return file;
}

async function start(api: StandIn) {
  const events = { synced: 0, changes: 0 };
  const metrics = new Metrics();
  const source = await startInformers(
    loadKubeConfig(kubeconfigFor(api.port)),
    {
      onChange: () => events.changes++,
      onSynced: () => events.synced++,
    },
    log,
    metrics,
    tuning,
  );
  return { source, events, metrics };
}

const apiErrors = async (m: Metrics) => (await m.errors.get()).values.find((v) => v.labels.kind === "api")?.value ?? 0;

describe("informers", () => {
  let api: StandIn;
  afterEach(() => api.stop());

  it("syncs only after both lists; an API down at start delays it and prunes nothing", async () => {
    api = new StandIn();
    api.put("n1");
    api.store.put("ciliumnodes", { metadata: { name: "n1" } });
    api.port = await freePort();
    const { source, events, metrics } = await start(api);
    await sleep(300);
    expect(events.synced).toBe(0);
    expect(source.nodes()).toEqual([]);
    expect(await apiErrors(metrics)).toBeGreaterThan(0);
    await api.start(api.port);
    await until("synced", () => events.synced === 1);
    expect([source.nodes().length, source.ciliumNodes().length]).toEqual([1, 1]);

    // An outage keeps the last known state; changes made meanwhile arrive after it.
    await api.stop();
    api.store.delete("nodes", "n1");
    api.put("n2");
    await sleep(300);
    expect(source.nodes().map((n) => (n as { metadata: { name: string } }).metadata.name)).toEqual(["n1"]);
    await api.start(api.port);
    await until("caught up", () => JSON.stringify(source.nodes()).includes('"n2"') && source.nodes().length === 1);
    expect(events.synced).toBe(1);
    await source.stop();
  });

  it("counts a missing CiliumNode CRD as no CiliumNodes, and drops what the agent never reads", async () => {
    api = new StandIn();
    api.put("n1", {
      spec: { podCIDRs: ["198.18.0.0/24"] },
      status: { addresses: [{ type: "InternalIP", address: "198.51.100.1" }], images: [{ names: ["x"], sizeBytes: 1 }], conditions: [{ type: "Ready" }] },
    });
    api.intercept = (req, res) => {
      if (!req.url?.startsWith("/apis/cilium.io/")) return false;
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound", message: "the server could not find the requested resource" }));
      return true;
    };
    await api.start();
    const { source, events } = await start(api);
    await until("synced without the CRD", () => events.synced === 1);
    expect(source.ciliumNodes()).toEqual([]);
    expect(source.nodes()).toEqual([
      {
        metadata: { name: "n1", resourceVersion: expect.any(String) },
        spec: { podCIDRs: ["198.18.0.0/24"] },
        status: { addresses: [{ type: "InternalIP", address: "198.51.100.1" }] },
      },
    ]);
    await source.stop();
  });
});
