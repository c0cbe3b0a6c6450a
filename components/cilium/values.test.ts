import { DEFAULT_CHART_VERSION, resolveChartVersion, SUPPORTED } from "./chartVersions";
import { planMtu, wireguardOverhead } from "./mtu";
import { SUPPORTED_CHART_VERSIONS } from "./chartVersions";
import { buildCiliumValues, ciliumProblems, type CiliumValuesInput } from "./values";

const base: CiliumValuesInput = {
  podCidrV4: "10.244.0.0/16",
  k8sServiceHost: "10.10.1.10",
  k8sServicePort: 6443,
  underlayMtus: { aws: 1500, gcp: 1460 },
};

describe("chart versions", () => {
  test("default pin is 1.20.0; lines and exact pins resolve", () => {
    expect(DEFAULT_CHART_VERSION).toBe("1.20.0");
    expect(resolveChartVersion()).toEqual({ line: "1.20", version: "1.20.0" });
    expect(resolveChartVersion("1.19")).toEqual({ line: "1.19", version: "1.19.6" });
    expect(resolveChartVersion("v1.17.18")).toEqual({ line: "1.17", version: "1.17.18" });
  });

  test.each(["1.16.0", "1.19.5", "2.0", "latest"])("unsupported %s is a config error naming cilium.version and the list", (v) => {
    expect(() => resolveChartVersion(v)).toThrow(/cilium\.version.*1\.17\.18.*1\.18\.12.*1\.19\.6.*1\.20\.0/);
    expect(() => buildCiliumValues({ ...base, chartVersion: v })).toThrow(/cilium\.version/);
  });
});

describe("values common to every chart line", () => {
  test.each(SUPPORTED.map((s) => s.version))("%s", (chartVersion) => {
    const v = buildCiliumValues({ ...base, chartVersion });
    expect(v).toMatchObject({
      routingMode: "native",
      ipv4NativeRoutingCIDR: "10.244.0.0/16",
      autoDirectNodeRoutes: false,
      kubeProxyReplacement: "true",
      k8sServiceHost: "10.10.1.10",
      k8sServicePort: 6443,
      bpf: { hostLegacyRouting: true },
      encryption: { enabled: true, type: "wireguard", nodeEncryption: false, wireguard: { persistentKeepalive: "0s" } },
      hubble: { enabled: true, relay: { enabled: true }, ui: { enabled: false } },
      ipam: { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: ["10.244.0.0/16"], clusterPoolIPv4MaskSize: 24 } },
      ipv6: { enabled: false },
      MTU: 1460,
    });
  });
});

describe("strict mode keys per chart line", () => {
  const strict = { enabled: true, cidr: "10.244.0.0/16", allowRemoteNodeIdentities: false };
  test.each(["1.17", "1.18"])("%s uses the flat keys", (line) => {
    expect(buildCiliumValues({ ...base, chartVersion: line }).encryption.strictMode).toEqual(strict);
  });
  test.each(["1.19", "1.20"])("%s uses egress.* only", (line) => {
    expect(buildCiliumValues({ ...base, chartVersion: line }).encryption.strictMode).toEqual({ egress: strict });
  });
});

describe("MTU", () => {
  test("chart MTU is the smallest underlay MTU; Cilium subtracts WireGuard once, by the chart version's overhead", () => {
    expect(planMtu({ aws: 1500, gcp: 1460 }, "f", "1.18.12")).toEqual({ ciliumMtu: 1460, podMtu: 1380, overhead: 80, limitedBy: "gcp" });
    expect(planMtu({ aws: 1500, gcp: 1460 }, "f", "1.20.0")).toEqual({ ciliumMtu: 1460, podMtu: 1365, overhead: 95, limitedBy: "gcp" });
    expect(buildCiliumValues({ ...base, underlayMtus: { aws: 9001, gcp: 8896 } }).MTU).toBe(8896);
    expect(buildCiliumValues({ ...base, underlayMtus: { aws: 1500 } }).MTU).toBe(1500);
  });

  test("the overhead per chart version: 80 up to 1.19.4, 95 from 1.19.5 (cilium/cilium#45940); every supported pin", () => {
    expect(["1.17.18", "1.18.12", "1.19.0", "1.19.4", "1.19.5", "1.19.6", "1.20.0", "v1.21.3"].map(wireguardOverhead)).toEqual([
      80, 80, 80, 80, 95, 95, 95, 95,
    ]);
    expect(Object.fromEntries(Object.entries(SUPPORTED_CHART_VERSIONS).map(([line, v]) => [line, wireguardOverhead(v)]))).toEqual({
      "1.17": 80,
      "1.18": 80,
      "1.19": 95,
      "1.20": 95,
    });
    expect(() => wireguardOverhead("1.19")).toThrow(/not an exact chart version/);
  });

  test("bad or missing MTUs are config errors; the floor is 1280 plus the chart's overhead", () => {
    expect(() => buildCiliumValues({ ...base, underlayMtus: {} })).toThrow(/cilium\.underlayMtus/);
    expect(() => buildCiliumValues({ ...base, underlayMtus: { gcp: 1300 } })).toThrow(/cilium\.underlayMtus\.gcp: 1300/);
    expect(() => buildCiliumValues({ ...base, chartVersion: "1.20", underlayMtus: { gcp: 1370 } })).toThrow(
      /cilium\.underlayMtus\.gcp: 1370 must be an integer in 1375\.\.9216 \(pods get the underlay MTU minus 95 bytes of WireGuard with chart 1\.20\.0/,
    );
    expect(buildCiliumValues({ ...base, chartVersion: "1.18", underlayMtus: { gcp: 1370 } }).MTU).toBe(1370);
    expect(() => buildCiliumValues({ ...base, underlayMtus: { aws: 1500.5 } })).toThrow(/cilium\.underlayMtus\.aws/);
  });
});

describe("CIDRs and IPAM", () => {
  test("native-routing CIDR may be a supernet of the pod CIDR", () => {
    expect(buildCiliumValues({ ...base, nativeRoutingCidrV4: "10.0.0.0/8" }).ipv4NativeRoutingCIDR).toBe("10.0.0.0/8");
  });

  test.each(["10.245.0.0/16", "10.244.0.0/17", "192.0.2.0/24"])("native-routing CIDR %s not covering the pod CIDR is an error", (cidr) => {
    expect(() => buildCiliumValues({ ...base, nativeRoutingCidrV4: cidr })).toThrow(
      /cilium\.nativeRoutingCidr: .*does not cover the pod CIDR 10\.244\.0\.0\/16/,
    );
  });

  test("malformed CIDRs name their field", () => {
    expect(() => buildCiliumValues({ ...base, podCidrV4: "10.244.0.1/16" })).toThrow(/cilium\.podCidr: .*host bits.*10\.244\.0\.0\/16/);
    expect(() => buildCiliumValues({ ...base, podCidrV4: "nope" })).toThrow(/cilium\.podCidr/);
    expect(() => buildCiliumValues({ ...base, nativeRoutingCidrV4: "fd00::/8" })).toThrow(/cilium\.nativeRoutingCidr/);
  });

  test("kubernetes IPAM sets no cluster pool", () => {
    expect(buildCiliumValues({ ...base, ipamMode: "kubernetes" }).ipam).toEqual({ mode: "kubernetes" });
  });

  test("cluster-pool mask size must fit inside the pool", () => {
    expect(buildCiliumValues({ ...base, clusterPoolMaskSizeV4: 26 }).ipam.operator?.clusterPoolIPv4MaskSize).toBe(26);
    expect(() => buildCiliumValues({ ...base, clusterPoolMaskSizeV4: 16 })).toThrow(/cilium\.clusterPoolMaskSizeV4/);
  });

  test("dual stack adds the IPv6 pool and native-routing CIDR", () => {
    const v = buildCiliumValues({ ...base, podCidrV6: "fd00:10:244::/56" });
    expect(v.ipv6).toEqual({ enabled: true });
    expect(v.ipv6NativeRoutingCIDR).toBe("fd00:10:244::/56");
    expect(v.ipam.operator).toMatchObject({ clusterPoolIPv6PodCIDRList: ["fd00:10:244::/56"], clusterPoolIPv6MaskSize: 120 });
    expect(() => buildCiliumValues({ ...base, nativeRoutingCidrV6: "fd00::/8" })).toThrow(/podCidrV6/);
  });
});

describe("keepalive, Hubble, API endpoint", () => {
  test("behind NAT or across clouds turns on persistent keepalive", () => {
    expect(buildCiliumValues({ ...base, behindNat: true }).encryption.wireguard.persistentKeepalive).toBe("25s");
    expect(buildCiliumValues({ ...base, multiCloud: true, persistentKeepalive: "15s" }).encryption.wireguard.persistentKeepalive).toBe("15s");
    expect(() => buildCiliumValues({ ...base, behindNat: true, persistentKeepalive: "25" })).toThrow(/persistentKeepalive/);
  });

  test("Hubble UI optional; relay/ui without Hubble is an error", () => {
    const cp = [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }];
    expect(buildCiliumValues({ ...base, hubble: { ui: true } }).hubble).toEqual({
      enabled: true,
      relay: { enabled: true, tolerations: cp },
      ui: { enabled: true, tolerations: cp },
    });
    expect(buildCiliumValues({ ...base, hubble: { enabled: false } }).hubble.relay.enabled).toBe(false);
    expect(() => buildCiliumValues({ ...base, hubble: { enabled: false, ui: true } })).toThrow(/cilium\.hubble/);
  });

  test("API port and host are checked", () => {
    expect(() => buildCiliumValues({ ...base, k8sServicePort: 0 })).toThrow(/cilium\.k8sServicePort/);
    expect(() => buildCiliumValues({ ...base, k8sServiceHost: " " })).toThrow(/cilium\.k8sServiceHost/);
  });

  test("the host is passed through as given", () => {
    expect(buildCiliumValues({ ...base, k8sServiceHost: "api.example" }).k8sServiceHost).toBe("api.example");
  });

  test("ciliumProblems names the key of what buildCiliumValues would refuse, and nothing when it would not", () => {
    expect(ciliumProblems(base)).toEqual([]);
    expect(ciliumProblems({ ...base, chartVersion: "1.16.3" })).toEqual([expect.stringMatching(/^cilium\.version: /)]);
    expect(ciliumProblems({ ...base, nativeRoutingCidrV4: "10.244.0.0/24" })).toEqual([expect.stringMatching(/^cilium\.nativeRoutingCidr: .*does not cover/)]);
  });
});
