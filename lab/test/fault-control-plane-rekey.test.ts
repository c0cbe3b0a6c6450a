// Fault 3: the control-plane node "reboots" with a new WireGuard key while its peers still hold
// the old public key. Workers must still reach its API on 6443 (the bootstrap exemption, in the
// clear by design) - that is how the new key would get published - and nothing else may leak
// while keys disagree. Once the key is published, full encrypted connectivity returns.
import { publishKey, rekey } from "../src/faults";
import { WG_PUBKEY_ANNOTATION } from "../src/objects";
import { reportLeaks, useFaultLab } from "./harness";

describe("fault: control plane comes back with a new WireGuard key", () => {
  const fault = useFaultLab();

  test("bootstrap works, nothing else leaks, and publication restores encryption", async () => {
    const l = fault.lab;
    const cp = l.controlPlane;
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    const oldKey = l.publishedKey.get(cp.name);
    rekey(l, cp.name);
    expect(l.keys.get(cp.name)!.publicKey).not.toBe(oldKey);
    const rekeyedAt = Date.now();
    // While the keys disagree: the API stays reachable from every worker...
    const cpApi = (r: { flow: { cls: string } }) => r.flow.cls === "worker->cp:6443";
    await traffic.waitFor(
      "encrypted flows with the control plane to stop",
      (r) => ((r.flow.from === cp || r.flow.to === cp) && !r.flow.exempt ? !r.ok : r.ok),
      10_000,
    );
    await traffic.waitFor("another round while keys disagree", () => true);
    const during = traffic.resultsSince(rekeyedAt);
    expect(during.filter(cpApi).length).toBeGreaterThan(0);
    // ...and the agents themselves keep their API connection (they stay ready).
    for (const n of l.nodes) expect(await l.agent(n.name).ready()).toBe(true);

    // Cilium publishes the new key on the CiliumNode; peers pick it up.
    const publishedAt = Date.now();
    await publishKey(l, cp.name);
    expect((l.api.get("ciliumnodes", cp.name)?.metadata.annotations as Record<string, string>)[WG_PUBKEY_ANNOTATION]).toBe(l.keys.get(cp.name)!.publicKey);
    const recoveredMs = await traffic.waitFor("every flow to recover after publication", (r) => r.ok, 20_000);
    await traffic.stop();
    console.log(`[lab] control-plane-rekey: keys disagreed for ${publishedAt - rekeyedAt} ms; all flows back ${recoveredMs} ms after publication`);
    expect(await reportLeaks(l, "control-plane-rekey", mark)).toEqual([]);
  }, 60_000);
});
