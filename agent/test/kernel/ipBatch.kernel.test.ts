// The long-running `ip -batch` child: failures are attributed to the right line across several
// requests (ip numbers lines from the child's start), and a child that cannot run is reported.
import { IpBatchWorker } from "../../src/ipBatch";
import { createBench, ip, requireRootAndIp, UNDERLAY, type Bench } from "./netns";

let bench: Bench;
let worker: IpBatchWorker;

beforeAll(() => {
  requireRootAndIp();
  bench = createBench("nrib");
  worker = new IpBatchWorker(["-n", bench.node, "-4"]);
});

afterAll(() => {
  worker?.close();
  bench?.destroy();
});

describe("IpBatchWorker", () => {
  it("applies lines in order and reports exactly the failed ones, request after request", async () => {
    const first = await worker.run([
      `route replace 192.0.2.0/25 dev ${UNDERLAY} table 51999`,
      "route replace 192.0.2.64/26 dev nrib-missing0 table 51999",
      "rule del priority 1099 lookup 51999",
      `route replace 192.0.2.128/25 dev ${UNDERLAY} table 51999`,
    ]);
    expect([...first.keys()]).toEqual([1, 2]);
    expect(first.get(2)).toMatch(/No such file or directory/);
    expect(ip(bench.node, "route show table 51999").out).toContain("192.0.2.128/25");

    const second = await worker.run(["route del 192.0.2.0/25 table 51999", "route del 192.0.2.0/25 table 51999"]);
    expect([...second.keys()]).toEqual([1]);
    expect(second.get(1)).toMatch(/No such process/);
    expect(await worker.run([])).toEqual(new Map());
    expect(ip(bench.node, "route show table 51999").out).not.toContain("192.0.2.0/25");
  });

  it("a line ip cannot even parse ends the child: that request is rejected, the next one gets a new child", async () => {
    await expect(worker.run(["route replace not-an-address table 51999"])).rejects.toThrow(/ip batch child exited/);
    expect(await worker.run([`route replace 192.0.2.0/25 dev ${UNDERLAY} table 51999`, "rule del priority 1099 lookup 51999"])).toEqual(
      new Map([[1, expect.stringMatching(/No such file/)]]),
    );
  });

  it("rejects when the ip binary cannot be started", async () => {
    const broken = new IpBatchWorker([], "/nonexistent/ip");
    await expect(broken.run(["route show"])).rejects.toThrow(/ip batch child/);
  });
});
