import { resolveNodeRouterSettings } from "./settings";
import { TEST_IMAGE } from "./testImage";

describe("node-router settings", () => {
  test("safe defaults", () => {
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE })).toEqual({
      image: TEST_IMAGE,
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
      metricsAddress: { host: "127.0.0.1", port: 9872 },
      logLevel: "info",
    });
  });

  test("metrics: any host:port the stack chooses, but not on the health port of another address", () => {
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, metricsAddress: "0.0.0.0:9872" }).metricsAddress).toEqual({ host: "0.0.0.0", port: 9872 });
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, metricsAddress: "[::]:9100" }).metricsAddress).toEqual({ host: "::", port: 9100 });
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, metricsAddress: "127.0.0.1:9871" }).metricsAddress).toEqual({ host: "127.0.0.1", port: 9871 }); // shares the health server
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, metricsAddress: "0.0.0.0:9871" })).toThrow(/nodeRouter\.metricsAddress: port 9871 is the health port/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, metricsAddress: "9872" })).toThrow(/nodeRouter\.metricsAddress: "9872" is not host:port/);
  });

  test("subsets of the bootstrap ports are fine", () => {
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: ["2379", 6443] }).exemptPorts).toEqual([
      { start: 2379, end: 2379 },
      { start: 6443, end: 6443 },
    ]);
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: [] }).exemptPorts).toEqual([]);
  });

  test.each([[[6443, 22]], [["2379-2381"]], [[10250]], [["6443-6444"]]])("exempt ports %j outside the bootstrap set are an error", (ports) => {
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: ports })).toThrow(/nodeRouter\.exemptPorts: .*outside the bootstrap ports.*nodeRouter\.allowExtraExemptPorts: true/);
  });

  test("the explicit opt-in accepts extra exempt ports", () => {
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: [6443, 10250], allowExtraExemptPorts: true }).exemptPorts).toEqual([
      { start: 6443, end: 6443 },
      { start: 10250, end: 10250 },
    ]);
  });

  test("malformed port entries name the field", () => {
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: ["2380-2379"] })).toThrow(/nodeRouter\.exemptPorts: "2380-2379"/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, exemptPorts: [70000], allowExtraExemptPorts: true })).toThrow(/nodeRouter\.exemptPorts/);
  });

  test("mark and mask accept hex strings and must agree", () => {
    expect(resolveNodeRouterSettings({ image: TEST_IMAGE, mark: "0x1e00", mask: "0xff00" })).toMatchObject({ mark: 0x1e00, mask: 0xff00 });
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, mark: "0x1e00" })).toThrow(/nodeRouter\.mark: 0x1e00 has bits outside nodeRouter\.mask 0xf00/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, mask: "zz" })).toThrow(/nodeRouter\.mask/);
  });

  test("tables, priority, device, selector, image are validated", () => {
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, table: 254 })).toThrow(/nodeRouter\.table: 254 is a kernel-reserved table/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, table: 51872 })).toThrow(/nodeRouter\.controlPlaneTable: must differ/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, priority: 50 })).toThrow(/nodeRouter\.priority/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, device: "a-very-long-device-name" })).toThrow(/nodeRouter\.device/);
    expect(() => resolveNodeRouterSettings({ image: TEST_IMAGE, controlPlaneSelector: " " })).toThrow(/nodeRouter\.controlPlaneSelector/);
    expect(() => resolveNodeRouterSettings({ image: "bad image" })).toThrow(/nodeRouter\.image/);
  });
});

describe("nodeRouter.image: required, pinned by digest", () => {
  const build = /agent\/Dockerfile.*agent-image.*linux\/amd64.*linux\/arm64.*pulumi config set --path 'wg-mesh-cluster:nodeRouter\.image'/;
  test("missing: names the key and how to build, push and pin it", () => {
    expect(() => resolveNodeRouterSettings({})).toThrow(/nodeRouter\.image: required/);
    expect(() => resolveNodeRouterSettings()).toThrow(build);
  });
  test.each([
    ["a tag only", "ghcr.io/acme/node-router:0.1.0", /not pinned by digest/],
    ["the old placeholder", "ghcr.io/wg-mesh/node-router:0.1.0", /not pinned by digest/],
    ["a short digest", "ghcr.io/acme/node-router@sha256:abc", /sha256 digest of 64 lower-case hex/],
    ["upper-case hex", `ghcr.io/acme/node-router@sha256:${"AB".repeat(32)}`, /sha256 digest of 64/],
    ["no repository path", `node-router@sha256:${"ab".repeat(32)}`, /sha256 digest/],
  ])("%s is rejected", (_what, image, why) => {
    expect(() => resolveNodeRouterSettings({ image })).toThrow(why);
    expect(() => resolveNodeRouterSettings({ image })).toThrow(build);
  });
  test.each([
    `ghcr.io/acme/node-router@sha256:${"0f".repeat(32)}`,
    `ghcr.io/acme/node-router:1.2.3@sha256:${"0f".repeat(32)}`,
    `registry.example.com:5000/team/sub/node-router@sha256:${"0f".repeat(32)}`,
  ])("%s is accepted as written", (image) => {
    expect(resolveNodeRouterSettings({ image }).image).toBe(image);
  });
});
