import { parseSettings, SETTINGS } from "../../agent/src/settings";
import { TEST_IMAGE } from "../../test/fixtures/images";
import {
  agentSettingValues,
  deployedAgentOrThrow,
  guardSettings,
  imagePullSecretsProblems,
  imageProblem,
  nodeRouterProblems,
  type AgentSettings,
} from "./settings";

const problems = (settings: AgentSettings, allowExtraExemptPorts?: boolean) =>
  nodeRouterProblems({ image: TEST_IMAGE, settings, allowExtraExemptPorts }).join("\n");
/** The settings as deployed, parsed by the agent (extra exempt ports allowed: their parse is what is looked at). */
const deployedSettings = (settings: AgentSettings) => deployedAgentOrThrow("test", { image: TEST_IMAGE, settings, allowExtraExemptPorts: true }).settings;

describe("node-router settings", () => {
  test("an unset setting deploys the agent's own default; a set one, as the agent reads it", () => {
    const values = agentSettingValues({});
    expect(Object.keys(values).length).toBeGreaterThan(10);
    for (const [name, value] of Object.entries(values)) expect([name, value]).toEqual([name, SETTINGS[name as keyof typeof SETTINGS].default]);
    expect(agentSettingValues({ exemptPorts: ["6443", "2379-2380"], steeringTable: 100, wgMark: "0x1e00", healthPort: 9000 })).toMatchObject({
      exemptPorts: "6443,2379-2380",
      steeringTable: "100",
      wgMark: "0x1e00",
      healthAddress: "127.0.0.1:9000",
    });
  });

  test("the boot-time guard gets every value the DaemonSet sets, the guard's new settings included", () => {
    const s: AgentSettings = {
      device: "wg9",
      wgMark: "0x1e00",
      wgMask: "0xff00",
      exemptPorts: ["6443"],
      steeringTable: 7,
      exemptReplyMark: "0x8000000",
      metadataCgroups: ["system.slice", "host.slice"],
      underlayDevices: ["ens5"],
    };
    const agent = deployedAgentOrThrow("test", { image: TEST_IMAGE, settings: s });
    const values = agentSettingValues(s);
    expect(agent.values).toEqual(values);
    expect(guardSettings(agent)).toEqual(values);
    expect(guardSettings(agent)).toMatchObject({
      device: "wg9",
      wgMark: "0x1e00",
      wgMask: "0xff00",
      exemptPorts: "6443",
      exemptReplyMark: "0x8000000",
      metadataCgroups: "system.slice,host.slice",
      underlayDevices: "ens5",
    });
    expect(agent.settings).toMatchObject({ exemptReplyMark: 0x8000000, metadataCgroups: ["system.slice", "host.slice"], underlayDevices: ["ens5"] });
  });

  test("metrics: any host:port the stack chooses, but not on the health port of another address", () => {
    expect(deployedSettings({ metricsAddress: "0.0.0.0:9872" }).metricsAddress).toEqual({ host: "0.0.0.0", port: 9872 });
    expect(deployedSettings({ metricsAddress: "[::]:9100" }).metricsAddress).toEqual({ host: "::", port: 9100 });
    expect(problems({ metricsAddress: "127.0.0.1:9871" })).toBe(""); // shares the health server
    expect(problems({ metricsAddress: "0.0.0.0:9871" })).toMatch(/nodeRouter\.metricsAddress: port 9871 is the health port/);
    expect(problems({ metricsAddress: "0.0.0.0:9000", healthPort: 9000 })).toMatch(/nodeRouter\.metricsAddress: port 9000 is the health port/);
    expect(problems({ metricsAddress: "9872" })).toMatch(/nodeRouter\.metricsAddress = "9872": .*is not host:port/);
  });

  test("subsets of the bootstrap ports are fine", () => {
    expect(problems({ exemptPorts: ["2379", "6443"] })).toBe("");
    expect(deployedSettings({ exemptPorts: ["2379", "6443"] }).exemptPorts).toEqual([
      { start: 2379, end: 2379 },
      { start: 6443, end: 6443 },
    ]);
    expect(problems({ exemptPorts: [] })).toBe("");
    expect(deployedSettings({ exemptPorts: [] }).exemptPorts).toEqual([]);
  });

  test.each([[["6443", "22"]], [["2379-2381"]], [["10250"]], [["6443-6444"]]])("exempt ports %j outside the bootstrap set are an error", (ports) => {
    expect(problems({ exemptPorts: ports })).toMatch(
      /nodeRouter\.exemptPorts: .*outside the bootstrap ports 6443,2379-2380.*nodeRouter\.allowExtraExemptPorts: true/,
    );
  });

  test("the explicit opt-in accepts extra exempt ports", () => {
    expect(problems({ exemptPorts: ["6443", "10250"] }, true)).toBe("");
    expect(deployedSettings({ exemptPorts: ["6443", "10250"] }).exemptPorts).toEqual([
      { start: 6443, end: 6443 },
      { start: 10250, end: 10250 },
    ]);
  });

  test("malformed port entries name the field", () => {
    expect(problems({ exemptPorts: ["2380-2379"] })).toMatch(/nodeRouter\.exemptPorts = "2380-2379": "2380-2379" is not a port/);
    expect(problems({ exemptPorts: ["70000"] }, true)).toMatch(/nodeRouter\.exemptPorts/);
  });

  test("mark and mask accept hex strings and must agree", () => {
    expect(problems({ wgMark: "0x1e00", wgMask: "0xff00" })).toBe("");
    expect(deployedSettings({ wgMark: "0x1e00", wgMask: "0xff00" })).toMatchObject({ wgMark: 0x1e00, wgMask: 0xff00 });
    expect(problems({ wgMark: "0x1e00" })).toMatch(/nodeRouter\.wgMark 0x1e00 has bits outside nodeRouter\.wgMask 0xf00/);
    expect(problems({ wgMask: "zz" })).toMatch(/nodeRouter\.wgMask/);
  });

  test("tables, priority, device, selector, log level are validated by the agent's own parser, named by the stack key", () => {
    expect(problems({ steeringTable: 254 })).toMatch(/nodeRouter\.steeringTable = "254": must not be a reserved table/);
    expect(problems({ steeringTable: 51872 })).toMatch(/nodeRouter\.steeringTable and nodeRouter\.controlPlaneTable must differ/);
    expect(problems({ rulePriority: 50 })).toMatch(/nodeRouter\.rulePriority/);
    expect(problems({ device: "a-very-long-device-name" })).toMatch(/nodeRouter\.device/);
    expect(problems({ controlPlaneSelector: " " })).toMatch(/nodeRouter\.controlPlaneSelector = " ": empty selector/);
    expect(problems({ logLevel: "loud" })).toMatch(/nodeRouter\.logLevel/);
    expect(problems({ healthPort: 0 })).toMatch(/nodeRouter\.healthPort = "127\.0\.0\.1:0"/);
  });

  test("what the program deploys is exactly what the agent parses from the DaemonSet's environment", () => {
    const s: AgentSettings = {
      exemptPorts: ["6443"],
      steeringTable: 100,
      controlPlaneTable: 101,
      rulePriority: 2000,
      wgMark: "0x1e00",
      wgMask: "0xff00",
      resyncSeconds: 10,
      metricsAddress: "0.0.0.0:9872",
      controlPlaneSelector: "role=cp",
      logLevel: "debug",
    };
    const env = Object.fromEntries(Object.entries(agentSettingValues(s)).map(([k, v]) => [SETTINGS[k as keyof typeof SETTINGS].env, v]));
    expect(parseSettings([], env)).toEqual(deployedSettings(s));
  });
});

describe("nodeRouter.image: required, pinned by digest", () => {
  const build = /agent\/Dockerfile.*agent-image.*linux\/amd64.*linux\/arm64.*pulumi config set --path 'wg-mesh-cluster:nodeRouter\.image'/;
  test("missing: names the key and how to build, push and pin it", () => {
    expect(nodeRouterProblems({ image: "" }).join("\n")).toMatch(/nodeRouter\.image: required/);
    expect(imageProblem("")).toMatch(build);
  });
  test.each([
    ["a tag only", "ghcr.io/acme/node-router:0.1.0", /not pinned by digest/],
    ["the old placeholder", "ghcr.io/wg-mesh/node-router:0.1.0", /not pinned by digest/],
    ["a short digest", "ghcr.io/acme/node-router@sha256:abc", /sha256 digest of 64 lower-case hex/],
    ["upper-case hex", `ghcr.io/acme/node-router@sha256:${"AB".repeat(32)}`, /sha256 digest of 64/],
    ["no repository path", `node-router@sha256:${"ab".repeat(32)}`, /sha256 digest/],
  ])("%s is rejected", (_what, image, why) => {
    expect(imageProblem(image)).toMatch(why);
    expect(imageProblem(image)).toMatch(build);
  });
  test.each([
    `ghcr.io/acme/node-router@sha256:${"0f".repeat(32)}`,
    `ghcr.io/acme/node-router:1.2.3@sha256:${"0f".repeat(32)}`,
    `registry.example.com:5000/team/sub/node-router@sha256:${"0f".repeat(32)}`,
  ])("%s is accepted as written", (image) => {
    expect(imageProblem(image)).toBeUndefined();
    expect(nodeRouterProblems({ image })).toEqual([]);
  });
});

describe("nodeRouter.imagePullSecrets: Secret names", () => {
  test("DNS-subdomain names are accepted, none is fine", () => {
    expect(imagePullSecretsProblems(["ghcr-pull", "mirror.example.com", "a"])).toEqual([]);
    expect(imagePullSecretsProblems(undefined)).toEqual([]);
    expect(imagePullSecretsProblems([])).toEqual([]);
  });
  test.each([
    ["upper case", "Ghcr"],
    ["underscore", "ghcr_pull"],
    ["leading dash", "-ghcr"],
    ["empty", ""],
    ["too long", "a".repeat(254)],
  ])("%s is refused, naming the entry and the fix", (_what, name) => {
    expect(imagePullSecretsProblems(["ok", name], "proj:nodeRouter.imagePullSecrets").join("\n")).toMatch(
      /^proj:nodeRouter\.imagePullSecrets\[1\]: ".*" is not a Secret name .*dockerconfigjson Secret in the agent's namespace$/,
    );
  });
  test("a Secret listed twice is refused", () => {
    expect(imagePullSecretsProblems(["a", "a"])).toEqual([`nodeRouter.imagePullSecrets: "a" is listed twice; list each Secret once`]);
  });
});
