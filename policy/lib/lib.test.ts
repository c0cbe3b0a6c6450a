import { unknownCheckingProxy } from "@pulumi/policy";
import { cidrCovers, mayHoldPrivateAddresses } from "./cidr";
import { isCiliumChart } from "./cilium";
import { ingressRules } from "./firewall";
import { admitsOnlyPort, describeAdmission, firewallContext } from "./firewall-scope";
import { formatPorts, parsePorts, uncovered } from "./ports";
import { isUnknown, plain, UNKNOWN_SENTINEL, UnknownNotes } from "./unknowns";
import { addressIndex, peerAddresses } from "./node-addresses";
import { asBool, at, goParseBool, helmGatedBool, helmRenderedBool, helmTruthy } from "./values";

describe("ports", () => {
  it("parses lists and ranges and rejects junk naming the entry", () => {
    expect(parsePorts("6443, 2379-2380")).toEqual([
      { from: 6443, to: 6443 },
      { from: 2379, to: 2380 },
    ]);
    expect(parsePorts([6443, "10250"])).toEqual([
      { from: 6443, to: 6443 },
      { from: 10250, to: 10250 },
    ]);
    expect(() => parsePorts("2380-2379")).toThrow("'2380-2379' is not a valid port range");
    expect(() => parsePorts("http")).toThrow("'http' is not a port");
  });

  it("computes the uncovered parts of a range", () => {
    const allowed = parsePorts("6443,2379-2380");
    expect(uncovered({ from: 2379, to: 2380 }, allowed)).toEqual([]);
    expect(formatPorts(uncovered({ from: 2000, to: 7000 }, allowed))).toBe("2000-2378,2381-6442,6444-7000");
    expect(formatPorts(uncovered({ from: 0, to: 65535 }, []))).toBe("0-65535");
  });
});

describe("cidr", () => {
  it("checks containment for IPv4 and IPv6 without mixing families", () => {
    expect(cidrCovers("10.244.0.0/16", "10.244.3.0/24")).toBe(true);
    expect(cidrCovers("10.244.0.0/24", "10.244.0.0/16")).toBe(false);
    expect(cidrCovers("fd00::/8", "fd00:10::/64")).toBe(true);
    expect(cidrCovers("0.0.0.0/0", "fd00::/64")).toBe(false);
  });

  it("tells ranges that may hold private node addresses from public /32s", () => {
    expect(["10.0.0.0/16", "0.0.0.0/0", "172.16.0.0/12", "fd00::/8"].map(mayHoldPrivateAddresses)).toEqual([true, true, true, true]);
    expect(["198.51.100.10/32", "8.8.8.0/24"].map(mayHoldPrivateAddresses)).toEqual([false, false]);
  });
});

describe("unknowns", () => {
  it("unwraps the analyzer's unknown-checking proxy and marks sentinels instead of throwing", () => {
    const proxied = unknownCheckingProxy({ values: { encryption: { type: UNKNOWN_SENTINEL, enabled: true } }, list: [1, UNKNOWN_SENTINEL] });
    expect(() => proxied.values.encryption.type).toThrow(/can't be known during preview/);
    const p = plain(proxied);
    expect(isUnknown(at(p, "values.encryption.type"))).toBe(true);
    expect(at(p, "values.encryption.enabled")).toBe(true);
    expect(isUnknown(at(p, "values.encryption.type.deeper"))).toBe(true);
  });

  it("raises one advisory error listing every note", () => {
    const notes = new UnknownNotes();
    notes.finish();
    notes.add("a");
    notes.add("b");
    notes.add("a");
    expect(() => notes.finish()).toThrow("could not be checked because a; b is unknown at preview");
  });

  it("reads Helm/ConfigMap booleans", () => {
    expect([asBool(true), asBool("true"), asBool("False"), asBool(undefined)]).toEqual([true, true, false, undefined]);
  });
});

describe("cilium chart detection", () => {
  it.each(["cilium", "cilium/cilium", "oci://quay.io/cilium/charts/cilium", "./charts/cilium-1.18.12.tgz"])("recognises %s", (c) => {
    expect(isCiliumChart(c)).toBe(true);
  });
  it.each(["cilium-operator", "tetragon", "", undefined])("ignores %s", (c) => {
    expect(isCiliumChart(c)).toBe(false);
  });
});

describe("firewall normalisation", () => {
  const res = (type: string, props: Record<string, unknown>) => ({ type, name: "r", urn: `urn:pulumi:s::p::${type}::r`, props, propertyDependencies: {} });
  it("reads AWS all-ports spellings and GCP default sources", () => {
    const [aws] = ingressRules(
      res("aws:ec2/securityGroupRule:SecurityGroupRule", { type: "ingress", protocol: "6", fromPort: 0, toPort: 0, securityGroupId: "sg-1", self: true }),
    );
    expect(aws).toMatchObject({ protocol: "tcp", ports: [{ from: 0, to: 65535 }], sources: [{ kind: "self" }] });
    const [gcp] = ingressRules(res("gcp:compute/firewall:Firewall", { allows: [{ protocol: "udp", ports: ["51871"] }] }));
    expect(gcp).toMatchObject({ protocol: "udp", ports: [{ from: 51871, to: 51871 }], sources: [{ kind: "cidr", cidr: "0.0.0.0/0" }] });
  });

  it("groups the rules that share their sources into one entry: a GCP firewall's allows, a policy rule's layer4Configs; an AWS rule alone", () => {
    const gcp = ingressRules(res("gcp:compute/firewall:Firewall", { allows: [{ protocol: "udp", ports: ["51871"] }, { protocol: "icmp" }] }));
    expect(gcp.map((r) => [r.field, r.entry])).toEqual([
      ["allows[0]", "allows"],
      ["allows[1]", "allows"],
    ]);
    const policy = ingressRules(
      res("gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules", {
        rules: [0, 1].map((i) => ({
          action: "allow",
          direction: "INGRESS",
          priority: i,
          match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "udp" }] },
        })),
      }),
    );
    expect(policy.map((r) => r.entry)).toEqual(["rules[0].match", "rules[1].match"]);
    const aws = ingressRules(
      res("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [
          { protocol: "udp", fromPort: 51871, toPort: 51871, cidrBlocks: ["0.0.0.0/0"] },
          { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] },
        ],
      }),
    );
    expect(aws.map((r) => r.entry)).toEqual(["ingress[0]", "ingress[1]"]);
  });

  it("tells a rule admitting one port alone from one whose entry admits more (admitsOnlyPort, describeAdmission)", () => {
    const judge = (props: Record<string, unknown>) => {
      const ctx = firewallContext([res("gcp:compute/firewall:Firewall", plain(props) as Record<string, unknown>)], {
        roleTagKey: "wg-mesh/role",
        controlPlaneRole: "control-plane",
        gcpControlPlaneTagSuffix: "-control-plane",
        gcpWorkerTagSuffix: "-worker",
      });
      return { only: admitsOnlyPort(ctx, ctx.rules[0], "udp", 51871), admits: describeAdmission(ctx, ctx.rules[0]) };
    };
    expect(judge({ allows: [{ protocol: "udp", ports: ["51871"] }] })).toEqual({ only: true, admits: "UDP 51871" });
    expect(judge({ allows: [{ protocol: "udp", ports: ["51871", "51871"] }] })).toEqual({ only: true, admits: "UDP 51871,51871" });
    expect(judge({ allows: [{ protocol: "udp", ports: ["51871-51872"] }] })).toEqual({ only: false, admits: "UDP 51871-51872" });
    expect(judge({ allows: [{ protocol: "udp" }] })).toEqual({ only: false, admits: "UDP 0-65535" });
    expect(judge({ allows: [{ protocol: "udp", ports: ["51871"] }, { protocol: "icmp" }] })).toEqual({ only: false, admits: "UDP 51871, ICMP" });
    expect(judge({ allows: [{ protocol: "all" }] })).toEqual({ only: false, admits: "every protocol" });
    expect(isUnknown(judge({ allows: [{ protocol: "udp", ports: ["51871"] }, { protocol: UNKNOWN_SENTINEL }] }).only)).toBe(true);
  });
});

describe("Helm and Go booleans", () => {
  it("models Go template truthiness, Helm's rendering and strconv.ParseBool", () => {
    expect([false, 0, "", null, undefined, [], {}].map(helmTruthy)).toEqual([false, false, false, false, false, false, false]);
    expect([true, 1, "false", "0", [0], { a: 1 }].map(helmTruthy)).toEqual([true, true, true, true, true, true]);
    expect([helmGatedBool("false"), helmGatedBool(1), helmGatedBool(0), helmGatedBool(null), helmGatedBool("T")]).toEqual([
      false,
      true,
      false,
      undefined,
      true,
    ]);
    expect([helmRenderedBool("true"), helmRenderedBool(null), helmRenderedBool("yes")]).toEqual([true, undefined, false]);
    expect([goParseBool("True"), goParseBool("F"), goParseBool("yes")]).toEqual([true, false, undefined]);
  });
});

describe("node addresses", () => {
  const r = (type: string, name: string, props: Record<string, unknown>, propertyDependencies: Record<string, string[]> = {}) => ({
    type,
    name,
    urn: `urn:pulumi:s::p::${type}::${name}`,
    props,
    propertyDependencies,
  });

  it("follow an Elastic IP to its instance directly, by association, or through a network interface, by id or by dependency", () => {
    const node = r("aws:ec2/instance:Instance", "n", { id: "i-1", primaryNetworkInterface: { networkInterfaceId: "eni-1" } });
    const eni = r("aws:ec2/networkInterface:NetworkInterface", "eni", { id: "eni-1" });
    const viaEni = r("aws:ec2/eip:Eip", "a", { networkInterface: "eni-1", publicIp: "198.51.100.1" });
    const eip = r("aws:ec2/eip:Eip", "b", { allocationId: "eipalloc-2", publicIp: "198.51.100.2" });
    const assoc = r(
      "aws:ec2/eipAssociation:EipAssociation",
      "b",
      { allocationId: UNKNOWN_SENTINEL, instanceId: UNKNOWN_SENTINEL },
      { allocationId: [eip.urn], instanceId: [node.urn] },
    );
    const stack = [node, eni, viaEni, eip, assoc].map((x) => ({ ...x, props: plain(x.props) as Record<string, unknown> }));
    expect(peerAddresses(stack[0], addressIndex(stack), "public")).toEqual({ addresses: ["198.51.100.1", "198.51.100.2"] });
    expect(peerAddresses(r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {}), addressIndex(stack), "public").missing).toContain("assigned at boot");
  });
});
