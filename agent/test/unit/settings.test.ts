import { parseSettings, requireNodeName, SettingsError } from "../../src/settings";
import { matchesSelector, parseSelector } from "../../src/selector";

describe("parseSettings", () => {
  it("uses the documented defaults", () => {
    const s = parseSettings([], { NODE_NAME: "n1" });
    expect(s).toMatchObject({
      nodeName: "n1",
      device: "cilium_wg0",
      steeringTable: 51871,
      controlPlaneTable: 51872,
      rulePriority: 1000,
      wgMark: 0xe00,
      wgMask: 0xf00,
      exemptPorts: [
        { start: 6443, end: 6443 },
        { start: 2379, end: 2380 },
      ],
      resyncSeconds: 30,
      healthAddress: { host: "127.0.0.1", port: 9871 },
      metricsAddress: { host: "127.0.0.1", port: 9872 },
      routeProtocol: 211,
      logLevel: "info",
    });
    expect(s.kubeconfig).toBeUndefined();
    expect(s).toMatchObject({
      wgPort: 51871,
      exemptReplyMark: 0x4000000,
      metadataAddresses: ["169.254.169.254", "fd00:ec2::254"],
      metadataCgroups: ["system.slice"],
      underlayDevices: [],
    });
  });

  it("reads the guard's settings from flags and environment", () => {
    const s = parseSettings(["--underlay-devices", "ens5, ens6", "--wg-port", "51820"], {
      NODE_ROUTER_METADATA_CGROUPS: "system.slice,init.scope",
      NODE_ROUTER_METADATA_ADDRESSES: "",
      NODE_ROUTER_EXEMPT_REPLY_MARK: "0x10000000",
    });
    expect(s).toMatchObject({
      underlayDevices: ["ens5", "ens6"],
      wgPort: 51820,
      metadataCgroups: ["system.slice", "init.scope"],
      metadataAddresses: [],
      exemptReplyMark: 0x10000000,
    });
  });

  it("lets a flag win over its environment variable", () => {
    const s = parseSettings(["--device", "wg1", "--exempt-ports=443"], { NODE_ROUTER_DEVICE: "wg9", NODE_NAME: "n" });
    expect(s.device).toBe("wg1");
    expect(s.exemptPorts).toEqual([{ start: 443, end: 443 }]);
  });

  it.each([
    [["--table", "254"], /--table \/ NODE_ROUTER_TABLE = "254": must not be a reserved table/],
    [["--rule-priority", "50"], /--rule-priority .*between 101 and/],
    [["--exempt-ports", "2380-2379"], /--exempt-ports .*"2380-2379" is not a port or an ascending range/],
    [["--exempt-ports", "70000"], /not a port/],
    [["--wg-mark", "0x1000"], /--wg-mark 0x1000 has bits outside --wg-mask 0xf00/],
    [["--health-address", "nope"], /--health-address .*is not host:port/],
    [["--control-plane-selector", "a=b=c"], /--control-plane-selector .*not a valid label value/],
    [["--table", "7", "--control-plane-table", "7"], /must differ/],
    [["--bogus", "1"], /Unknown option '--bogus'.*Known flags/],
    [["--route-protocol", "2"], /--route-protocol .*between 5 and 255/],
    [["--log-level", "loud"], /--log-level \/ NODE_ROUTER_LOG_LEVEL = "loud": must be one of debug, info, warn, error/],
    [["--device", "a-name-longer-than-15"], /--device \/ NODE_ROUTER_DEVICE = "a-name-longer-than-15": must be a Linux interface name/],
    [["--resync-seconds", "ten"], /--resync-seconds .*must be a decimal or 0x-hex integer/],
    [["--exempt-reply-mark", "0x200"], /--exempt-reply-mark 0x200 overlaps --wg-mask 0xf00: pick a bit outside the mask/],
    [["--exempt-reply-mark", "0x3000000"], /--exempt-reply-mark 0x3000000 must be a single bit/],
    [["--wg-port", "0"], /--wg-port \/ NODE_ROUTER_WG_PORT = "0": must be between 1 and 65535/],
    [["--metadata-addresses", "169.254.169.254,metadata.google.internal"], /--metadata-addresses .*"metadata.google.internal" is not an IPv4 or IPv6 address/],
    [["--metadata-cgroups", "kubepods.slice/burstable"], /--metadata-cgroups .*is not a level-1 cgroup name/],
    [["--underlay-devices", "eth*"], /--underlay-devices .*exact device names/],
  ])("rejects %j with an error naming the flag", (argv, message) => {
    expect(() => parseSettings(argv as string[], {})).toThrow(SettingsError);
    expect(() => parseSettings(argv as string[], {})).toThrow(message);
  });

  it("reports every invalid setting at once, each with its flag", () => {
    expect(() => parseSettings(["--table", "254", "--log-level", "loud"], {})).toThrow(
      /invalid settings:\n  --table .*reserved table.*\n  --log-level .*must be one of/s,
    );
  });

  it("requires a node name for run", () => {
    expect(() => requireNodeName(parseSettings([], {}))).toThrow(/NODE_NAME is empty/);
    expect(requireNodeName(parseSettings([], { NODE_NAME: "x" }))).toBe("x");
  });
});

describe("label selectors", () => {
  it.each([
    ["node-role.kubernetes.io/control-plane", { "node-role.kubernetes.io/control-plane": "" }, true],
    ["node-role.kubernetes.io/control-plane", { "node-role.kubernetes.io/control-plane": "true" }, true],
    ["node-role.kubernetes.io/control-plane", {}, false],
    ["role=cp", { role: "cp" }, true],
    ["role=cp", { role: "" }, false],
    ["role==cp", { role: "cp" }, true],
    ["role!=cp", {}, true],
    ["role!=cp", { role: "cp" }, false],
    ["!worker", { worker: "" }, false],
    ["!worker", {}, true],
    ["a,b=1", { a: "", b: "1" }, true],
    ["a,b=1", { a: "" }, false],
  ])("%s on %j -> %s", (text, labels, expected) => {
    expect(matchesSelector(parseSelector(text), labels)).toBe(expected);
  });

  it.each(["", "!a=b", "bad key", "a=b c"])("rejects %j", (text) => {
    expect(() => parseSelector(text)).toThrow();
  });
});

describe("node table, leave grace, local interfaces settings", () => {
  it("defaults: no table, 300 s grace, Cilium's local interfaces", () => {
    const s = parseSettings([], {});
    expect([s.nodeTable, s.leaveGraceSeconds, s.localInterfaces]).toEqual([undefined, 300, ["lo", "cilium_host", "cilium_net", "lxc*"]]);
  });

  it("flags over environment", () => {
    const s = parseSettings(["--node-table", "/t.json", "--leave-grace-seconds", "5", "--local-interfaces", "lo,veth*"], {
      NODE_ROUTER_NODE_TABLE: "/env.json",
    });
    expect([s.nodeTable, s.leaveGraceSeconds, s.localInterfaces]).toEqual(["/t.json", 5, ["lo", "veth*"]]);
  });

  it("state directory and boot table: defaults, flags over environment, empty = none", () => {
    const d = parseSettings([], {});
    expect([d.stateDir, d.bootNodeTable]).toEqual(["/var/lib/wg-mesh", undefined]);
    const f = parseSettings(["--state-dir", "/run/nr", "--boot-node-table", ""], { NODE_ROUTER_STATE_DIR: "/env", NODE_ROUTER_BOOT_NODE_TABLE: "/env.json" });
    expect([f.stateDir, f.bootNodeTable]).toEqual(["/run/nr", undefined]);
    expect(parseSettings([], { NODE_ROUTER_STATE_DIR: "" }).stateDir).toBeUndefined();
  });

  it.each([
    [["--state-dir", "var/lib/wg-mesh"], /--state-dir \/ NODE_ROUTER_STATE_DIR = "var\/lib\/wg-mesh": must be an absolute path/],
    [["--boot-node-table", "node-table.json"], /--boot-node-table \/ NODE_ROUTER_BOOT_NODE_TABLE = "node-table.json": must be an absolute path/],
    [
      ["--local-interfaces", "lo,way-too-long-interface-name"],
      /--local-interfaces \/ NODE_ROUTER_LOCAL_INTERFACES = "lo,way-too-long-interface-name": "way-too-long-interface-name" is not an interface name/,
    ],
    [["--local-interfaces", "lx*c"], /"lx\*c" is not an interface name/],
    [["--leave-grace-seconds=-1"], /--leave-grace-seconds \/ NODE_ROUTER_LEAVE_GRACE_SECONDS = "-1"/],
  ])("rejects %j naming the flag", (argv, message) => {
    expect(() => parseSettings(argv, {})).toThrow(message);
  });
});
