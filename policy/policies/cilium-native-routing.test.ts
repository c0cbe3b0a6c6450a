import { UNKNOWN_SENTINEL } from "../lib/unknowns";
import { baseline, ciliumConfigMap, ciliumValues, COMPLIANT_CM, get } from "../test/baseline";
import { runResourcePolicy } from "../test/harness";
import { ciliumNativeRouting as policy } from "./cilium-native-routing";

const run = (stack = baseline()) => runResourcePolicy(policy, get(stack, "cilium"));
const messages = async (stack = baseline()) => (await run(stack)).violations.map((v) => v.message).join("\n");

describe("cilium-native-routing", () => {
  it("passes native routing with a native-routing CIDR", async () => {
    expect(await run()).toEqual({ violations: [] });
  });

  it("rejects tunnel mode", async () => {
    const s = baseline();
    ciliumValues(s).routingMode = "tunnel";
    expect(await messages(s)).toMatch(/'cilium' .*values\.routingMode is 'tunnel'.*set it to native/);
  });

  it("rejects an unset routing mode (chart default: VXLAN overlay)", async () => {
    const s = baseline();
    delete ciliumValues(s).routingMode;
    expect(await messages(s)).toContain("unset (default: tunnel/VXLAN overlay)");
  });

  it("rejects a tunnel protocol in Helm values", async () => {
    const s = baseline();
    ciliumValues(s).tunnelProtocol = "geneve";
    expect(await messages(s)).toContain("values.tunnelProtocol is 'geneve'");
  });

  it("rejects a missing or malformed native-routing CIDR", async () => {
    const s = baseline();
    delete ciliumValues(s).ipv4NativeRoutingCIDR;
    expect(await messages(s)).toContain("values.ipv4NativeRoutingCIDR is unset");
    const t = baseline();
    ciliumValues(t).ipv4NativeRoutingCIDR = "10.244.0.0";
    expect(await messages(t)).toContain("is not a CIDR");
  });

  it("reads cilium-config: native mode passes, tunnel fails, tunnel-protocol is ignored in native mode", async () => {
    expect(await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "tunnel-protocol": "vxlan" }))).toEqual({ violations: [] });
    const tunnel = await runResourcePolicy(policy, ciliumConfigMap({ ...COMPLIANT_CM, "routing-mode": "tunnel" }));
    expect(tunnel.violations[0].message).toContain("data[\"routing-mode\"] is 'tunnel'");
  });

  it("accepts the legacy `tunnel: disabled` spelling", async () => {
    const s = baseline();
    delete ciliumValues(s).routingMode;
    ciliumValues(s).tunnel = "disabled";
    expect(await run(s)).toEqual({ violations: [] });
  });

  it("reports unknown routing values as unchecked", async () => {
    const s = baseline();
    ciliumValues(s).routingMode = UNKNOWN_SENTINEL;
    const out = await run(s);
    expect(out.violations).toEqual([]);
    expect(out.unchecked).toContain("values.routingMode");
  });
});
