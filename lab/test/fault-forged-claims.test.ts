// Fault: forged claims in the API, with a node table. A worker's Node claims the control
// plane's address (and the control-plane label); a CiliumNode claims 0.0.0.0/1 and another
// node's pod CIDR. Identity comes from the table, so every agent logs and counts the claims
// and ignores them: no steering moves, no exemption appears, bootstrap traffic still reaches
// the real control plane in the clear, and nothing else crosses the underlay in the clear.
import { waitFor } from "../src/exec";
import { ciliumNodeObject, nodeObject, type KubeObject } from "../src/objects";
import { CONTROL_PLANE_LABEL } from "../src/plan";
import { metric, ownedState, reportLeaks, useFaultLab } from "./harness";

describe("fault: forged claims against the node table", () => {
  const fault = useFaultLab();

  test("claims are counted and ignored; the kernel state does not move; no cleartext", async () => {
    const l = fault.lab;
    const [cp, w1, w2] = l.nodes;
    const stateBefore = l.nodes.map((n) => ownedState(n.ns));
    const claimsBefore = await Promise.all(l.nodes.map(async (n) => metric(await l.agent(n.name).metrics(), 'node_router_errors_total{kind="claim"}')));
    const mark = l.capture.mark();
    const traffic = fault.startTraffic();
    await traffic.waitFor("all flows up", (r) => r.ok);

    const forgedNode = nodeObject(w1) as KubeObject & { metadata: { labels: Record<string, string> }; status: { addresses: unknown[] } };
    forgedNode.metadata.labels[CONTROL_PLANE_LABEL] = "";
    forgedNode.status.addresses.push({ type: "InternalIP", address: cp.underlayIp });
    const forgedCilium = ciliumNodeObject(w2, l.publishedKey.get(w2.name)!) as KubeObject & { spec: { ipam: { podCIDRs: string[] } } };
    forgedCilium.spec.ipam.podCIDRs.push("0.0.0.0/1", w1.podCidr);
    await l.api.put("nodes", forgedNode);
    await l.api.put("ciliumnodes", forgedCilium);

    await waitFor(
      "every agent to count the claims",
      async () => {
        const now = await Promise.all(l.nodes.map(async (n) => metric(await l.agent(n.name).metrics(), 'node_router_errors_total{kind="claim"}')));
        return now.every((c, i) => c >= claimsBefore[i] + 3);
      },
      10_000,
      200,
    );
    // Give a wrong reaction time to happen, with traffic running, then compare.
    await traffic.waitFor("every flow with the forgeries present", (r) => r.ok, 10_000);
    await traffic.waitFor("still every flow", (r) => r.ok, 10_000);
    expect(l.nodes.map((n) => ownedState(n.ns))).toEqual(stateBefore);
    const bootstrap = traffic.resultsSince(0).filter((r) => r.flow.exempt);
    expect(bootstrap.length).toBeGreaterThan(0);
    expect(bootstrap.filter((r) => !r.ok)).toEqual([]);
    await traffic.stop();

    console.log(
      `[lab] forged-claims: Node/${w1.name} claimed ${cp.underlayIp} and the control-plane label, CiliumNode/${w2.name} claimed 0.0.0.0/1 and ${w1.podCidr}: counted as claims on every agent, kernel state unchanged, all flows kept working`,
    );
    expect(await reportLeaks(l, "forged-claims", mark)).toEqual([]);
  }, 60_000);
});
