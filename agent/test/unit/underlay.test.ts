// Underlay detection (pure): the facts are what `ip -j` prints and what /sys/class/net holds on
// a cloud node with Cilium. Reading them from a real namespace: agent/test/kernel/guard.kernel.test.ts.
import { underlayFrom, UnderlayError } from "../../src/underlay";
import { settings } from "../fixtures";

const S = { ...settings(), underlayDevices: [] };
const facts = {
  defaultRoutes: [{ dev: "ens5" }, { dev: "ens5" }],
  addresses: [
    { ifname: "lo", addr_info: [{ local: "127.0.0.1" }] },
    { ifname: "ens5", addr_info: [{ local: "198.51.100.1" }] },
    { ifname: "ens6", addr_info: [{ local: "10.0.1.7" }] },
    { ifname: "cilium_host", addr_info: [{ local: "198.18.0.1" }] },
    { ifname: "cilium_wg0", addr_info: [] },
    { ifname: "lxc12ab", addr_info: [{}] },
  ],
  physical: ["ens5", "ens7"],
};

describe("underlayFrom", () => {
  it("default-route devices, devices holding this node's addresses and physical devices; minus lo, the WireGuard device and local interfaces", () => {
    expect(underlayFrom(facts, ["198.51.100.1", "10.0.1.7"], S)).toEqual(["ens5", "ens6", "ens7"]);
    expect(underlayFrom({ ...facts, physical: [] }, [], S)).toEqual(["ens5"]);
  });

  it("never picks loopback, the WireGuard device or a local interface, even when they hold the node's address", () => {
    const odd = {
      defaultRoutes: [{ dev: "cilium_wg0" }],
      addresses: [
        { ifname: "lo", addr_info: [{ local: "198.51.100.1" }] },
        { ifname: "lxc1", addr_info: [{ local: "198.51.100.1" }] },
      ],
      physical: ["cilium_host"],
    };
    expect(() => underlayFrom(odd, ["198.51.100.1"], S)).toThrow(UnderlayError);
  });

  it("fails closed with the setting to use when nothing is found", () => {
    expect(() => underlayFrom({ defaultRoutes: [], addresses: [], physical: [] }, [], S)).toThrow(
      /no underlay device found.*--underlay-devices \/ NODE_ROUTER_UNDERLAY_DEVICES/,
    );
  });

  it("the setting wins over detection", () => {
    expect(underlayFrom(facts, [], { ...S, underlayDevices: ["bond0"] })).toEqual(["bond0"]);
  });
});
