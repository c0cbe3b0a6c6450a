// Fault (issue 21, case 7): the instance metadata service and host-network pods. A stand-in for
// 169.254.169.254 (outside.ts: HTTP on 80 with a fake credential, DNS on 53) sits on the
// underlay. On node-1, a process in a kubepods-like cgroup (level 1, not in the guard's
// --metadata-cgroups allowlist: a host-network pod) and a pod may not open TCP 80 there - the
// SYN carries a payload marker and must not reach the underlay - while DNS on 53 answers them
// (GCP's resolver is the metadata address); a process in the lab's stand-in for system.slice
// (allowlisted: kubelet, boot scripts) gets the credential. Sanity control: node-1 "rebooted"
// (no agent state, no guard): the kubepods process and the pod DO reach TCP 80.
import { METADATA } from "../src/outside";
import { attackWithControl, useFaultLab, type Shot } from "./harness";

describe("fault: host-network pods and pods reach the instance metadata service", () => {
  const fault = useFaultLab();

  test("kubepods cannot open TCP 80 while DNS answers; system can; without the guard kubepods can", async () => {
    const l = fault.lab;
    await l.startOutside();
    const from = l.node("node-1");
    const kubepods = l.cgroups.get("kubepods").path;
    const system = l.cgroups.get("system").path;
    const http = { host: METADATA, port: 80, timeoutS: 1 };
    const shots: Shot[] = [
      { label: "kubepods-http", probe: "tcp", args: http, options: { as: "nobody", cgroup: kubepods } },
      { label: "kubepods-dns", probe: "dns", args: { host: METADATA, port: 53 }, options: { as: "nobody", cgroup: kubepods } },
      { label: "system-http", probe: "tcp", args: http, options: { as: "nobody", cgroup: system } },
    ];
    // The pod: its own namespace (forwarded by the node), no cgroup of the node applies.
    const podShots: Shot[] = [
      { label: "pod-http", probe: "tcp", args: http },
      { label: "pod-dns", probe: "dns", args: { host: METADATA, port: 53 } },
    ];
    const r = await attackWithControl(l, "metadata", from, shots, { ns: from.podNs, shots: podShots });
    const result = (set: typeof r.results, i: number) => ({ ok: set[i].ok, error: set[i].error });
    console.log(
      `[lab] metadata: with the guard ${JSON.stringify(r.results.map((x) => x.ok))}, without ${JSON.stringify(r.controlResults.map((x) => x.ok))} (kubepods-http, kubepods-dns, system-http, pod-http, pod-dns)`,
    );
    // With the guard: DNS answers both, the credential only for the allowlisted cgroup.
    expect(result(r.results, 1).ok).toBe(true);
    expect(result(r.results, 4).ok).toBe(true);
    expect(result(r.results, 2)).toEqual({ ok: true, error: undefined });
    expect(r.results[2].answer).toContain("AccessKeyId");
    // Sanity control: without the guard the kubepods process and the pod got it.
    expect(r.controlResults[0].answer).toContain("AccessKeyId");
    expect(r.controlResults[3].answer).toContain("AccessKeyId");
    expect(r.seen.byProbe["kubepods-http"]).toBeGreaterThan(0);
    expect(r.seen.byProbe["pod-http"]).toBeGreaterThan(0);
    // The attack: no SYN of theirs reached the underlay, no answer came back.
    expect([result(r.results, 0).ok, result(r.results, 3).ok]).toEqual([false, false]);
    expect({ kubepods: r.attacked.byProbe["kubepods-http"] ?? 0, pod: r.attacked.byProbe["pod-http"] ?? 0 }).toEqual({ kubepods: 0, pod: 0 });
  }, 60_000);
});
