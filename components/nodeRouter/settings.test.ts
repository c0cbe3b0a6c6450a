import { DEFAULT_IMAGE, resolveNodeRouterSettings } from "./settings";

describe("node-router settings", () => {
  test("safe defaults", () => {
    expect(resolveNodeRouterSettings()).toEqual({
      image: DEFAULT_IMAGE,
      exemptPorts: [
        { start: 6443, end: 6443 },
        { start: 2379, end: 2380 },
      ],
      device: "cilium_wg0",
      table: 51871,
      controlPlaneTable: 51872,
      priority: 1000,
      mark: 0xe00,
      mask: 0xf00,
      controlPlaneSelector: "node-role.kubernetes.io/control-plane",
      resyncSeconds: 30,
      healthPort: 9871,
      metricsPort: 9871,
      logLevel: "info",
    });
    expect(DEFAULT_IMAGE).toMatch(/^ghcr\.io\/wg-mesh\/node-router:\d+\.\d+\.\d+$/);
  });

  test("subsets of the bootstrap ports are fine", () => {
    expect(resolveNodeRouterSettings({ exemptPorts: ["2379", 6443] }).exemptPorts).toEqual([
      { start: 2379, end: 2379 },
      { start: 6443, end: 6443 },
    ]);
    expect(resolveNodeRouterSettings({ exemptPorts: [] }).exemptPorts).toEqual([]);
  });

  test.each([[[6443, 22]], [["2379-2381"]], [[10250]], [["6443-6444"]]])("exempt ports %j outside the bootstrap set are an error", (ports) => {
    expect(() => resolveNodeRouterSettings({ exemptPorts: ports })).toThrow(/nodeRouter\.exemptPorts: .*outside the bootstrap ports.*nodeRouter\.allowExtraExemptPorts: true/);
  });

  test("the explicit opt-in accepts extra exempt ports", () => {
    expect(resolveNodeRouterSettings({ exemptPorts: [6443, 10250], allowExtraExemptPorts: true }).exemptPorts).toEqual([
      { start: 6443, end: 6443 },
      { start: 10250, end: 10250 },
    ]);
  });

  test("malformed port entries name the field", () => {
    expect(() => resolveNodeRouterSettings({ exemptPorts: ["2380-2379"] })).toThrow(/nodeRouter\.exemptPorts: "2380-2379"/);
    expect(() => resolveNodeRouterSettings({ exemptPorts: [70000], allowExtraExemptPorts: true })).toThrow(/nodeRouter\.exemptPorts/);
  });

  test("mark and mask accept hex strings and must agree", () => {
    expect(resolveNodeRouterSettings({ mark: "0x1e00", mask: "0xff00" })).toMatchObject({ mark: 0x1e00, mask: 0xff00 });
    expect(() => resolveNodeRouterSettings({ mark: "0x1e00" })).toThrow(/nodeRouter\.mark: 0x1e00 has bits outside nodeRouter\.mask 0xf00/);
    expect(() => resolveNodeRouterSettings({ mask: "zz" })).toThrow(/nodeRouter\.mask/);
  });

  test("tables, priority, device, selector, image are validated", () => {
    expect(() => resolveNodeRouterSettings({ table: 254 })).toThrow(/nodeRouter\.table: 254 is a kernel-reserved table/);
    expect(() => resolveNodeRouterSettings({ table: 51872 })).toThrow(/nodeRouter\.controlPlaneTable: must differ/);
    expect(() => resolveNodeRouterSettings({ priority: 50 })).toThrow(/nodeRouter\.priority/);
    expect(() => resolveNodeRouterSettings({ device: "a-very-long-device-name" })).toThrow(/nodeRouter\.device/);
    expect(() => resolveNodeRouterSettings({ controlPlaneSelector: " " })).toThrow(/nodeRouter\.controlPlaneSelector/);
    expect(() => resolveNodeRouterSettings({ image: "bad image" })).toThrow(/nodeRouter\.image/);
  });
});
