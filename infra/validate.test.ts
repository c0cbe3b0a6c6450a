// Every rejected configuration names the key and the fix, and the valid stacks pass.
import { TEST_IMAGE } from "../test/fixtures/images";
import { validateStackConfig, ConfigError } from "./validate";

const IMAGE = TEST_IMAGE;
const base = () => ({
  cluster: { name: "demo", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", adminCidrs: ["203.0.113.0/24"] } as any,
  nodeRouter: { image: IMAGE } as any,
  aws: {
    region: "eu-west-1",
    vpcCidr: "10.10.0.0/16",
    subnetCidrs: { "eu-west-1a": "10.10.1.0/24" } as Record<string, string>,
    ami: "ami-0abcdef1234567890",
    pools: [
      { name: "cp", role: "control-plane", count: 1, machineType: "t3.medium", zone: "eu-west-1a" },
      { name: "w", role: "worker", count: 2, machineType: "t3.large", zone: "eu-west-1a" },
    ],
  },
});

const problemsOf = (raw: Record<string, unknown>): string[] => {
  try {
    validateStackConfig(raw, "proj");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error("expected the configuration to be rejected");
};

describe("validateStackConfig", () => {
  it("accepts a valid config and expands its pools into named nodes", () => {
    const v = validateStackConfig(base(), "proj");
    expect(v.model.cluster.nodes.map((n) => n.name)).toEqual(["demo-aws-cp-0", "demo-aws-w-0", "demo-aws-w-1"]);
    expect(v.warnings).toEqual([]);
    expect(v.model.upgrade).toEqual({ maxUnavailable: 1, drainTimeoutMinutes: 15, nodeTimeoutMinutes: 30 });
    expect(v.model.versions).toEqual({
      kubernetesVersion: "1.34.2",
      containerdVersion: "1.7.28",
      nodes: ["demo-aws-cp-0", "demo-aws-w-0", "demo-aws-w-1"],
    });
  });

  const cases: [string, (c: any) => void, RegExp][] = [
    [
      "no control-plane node",
      (c) => {
        c.aws.pools[0].role = "worker";
      },
      /no control-plane node; add a pool with role "control-plane"/,
    ],
    [
      "no cloud",
      (c) => {
        delete c.aws;
      },
      /proj:aws \/ proj:gcp: no cloud configured/,
    ],
    [
      "unknown cloud",
      (c) => {
        c.azure = { region: "westeurope" };
      },
      /proj:azure: unknown key \(an unknown cloud\?\); supported clouds are aws, gcp/,
    ],
    [
      "unknown role",
      (c) => {
        c.aws.pools[1].role = "etcd";
      },
      /proj:aws\.pools\.1\.role:/,
    ],
    [
      "pod CIDR overlaps service CIDR",
      (c) => {
        c.cluster.serviceCidr = "10.244.128.0/20";
      },
      /proj:cluster\.serviceCidr: 10\.244\.128\.0\/20 overlaps proj:cluster\.podCidr/,
    ],
    [
      "pod CIDR overlaps the VPC",
      (c) => {
        c.cluster.podCidr = "10.10.0.0/17";
      },
      /proj:aws\.vpcCidr: 10\.10\.0\.0\/16 overlaps proj:cluster\.podCidr/,
    ],
    [
      "subnet outside its VPC",
      (c) => {
        c.aws.subnetCidrs["eu-west-1a"] = "10.11.1.0/24";
      },
      /proj:aws\.subnetCidrs\.eu-west-1a: 10\.11\.1\.0\/24 is not inside the VPC CIDR 10\.10\.0\.0\/16/,
    ],
    [
      "subnet for a zone no pool uses",
      (c) => {
        c.aws.subnetCidrs["eu-west-1c"] = "10.10.3.0/24";
      },
      /proj:aws\.subnetCidrs\.eu-west-1c: no pool uses zone "eu-west-1c"/,
    ],
    [
      "two zones' subnets overlapping",
      (c) => {
        c.aws.pools[1].zone = "eu-west-1b";
        c.aws.subnetCidrs["eu-west-1b"] = "10.10.1.128/25";
      },
      /proj:aws\.subnetCidrs\.eu-west-1b: 10\.10\.1\.128\/25 overlaps proj:aws\.subnetCidrs\.eu-west-1a/,
    ],
    [
      "the old single subnet key",
      (c) => {
        c.aws.subnetCidr = "10.10.1.0/24";
      },
      /proj:aws\.subnetCidr: replaced by aws\.subnetCidrs, one node subnet per zone/,
    ],
    [
      "the old name of the steering table",
      (c) => {
        c.nodeRouter.table = 100;
      },
      /proj:nodeRouter\.table: replaced by nodeRouter\.steeringTable/,
    ],
    [
      "the old names of the mark and mask",
      (c) => {
        c.nodeRouter.mark = "0xe00";
        c.nodeRouter.mask = "0xf00";
      },
      /proj:nodeRouter\.mark: replaced by nodeRouter\.wgMark[\s\S]*proj:nodeRouter\.mask: replaced by nodeRouter\.wgMask/,
    ],
    [
      "the old name of the rule priority",
      (c) => {
        c.nodeRouter.priority = 2000;
      },
      /proj:nodeRouter\.priority: replaced by nodeRouter\.rulePriority/,
    ],
    [
      "the old AMI lookup",
      (c) => {
        c.aws.amiNameFilter = "ubuntu/*";
      },
      /proj:aws\.amiNameFilter: replaced by aws\.ami, a pinned AMI id; record the current Ubuntu 24\.04 LTS image with `scripts\/pin-images\.sh <stack>`/,
    ],
    [
      "no AMI",
      (c) => {
        delete c.aws.ami;
      },
      /proj:aws\.ami: required: the AMI new AWS nodes boot, pinned \(ami-\.\.\.\); record the current Ubuntu 24\.04 LTS image with `scripts\/pin-images\.sh <stack>`/,
    ],
    [
      "a malformed AMI",
      (c) => {
        c.aws.ami = "ubuntu-24.04";
      },
      /proj:aws\.ami: "ubuntu-24\.04" is not an AMI id/,
    ],
    [
      "no agent image",
      (c) => {
        delete c.nodeRouter;
      },
      /proj:nodeRouter: required: set nodeRouter\.image, the node-router agent image pinned by digest; build and push the agent from agent\/Dockerfile .*agent-image.*linux\/amd64 and linux\/arm64/,
    ],
    [
      "a pull Secret that is not a Secret name",
      (c) => {
        c.nodeRouter.imagePullSecrets = ["ghcr_pull"];
      },
      /proj:nodeRouter\.imagePullSecrets\[0\]: "ghcr_pull" is not a Secret name/,
    ],
    [
      "pull Secrets that are not a list of names",
      (c) => {
        c.nodeRouter.imagePullSecrets = "ghcr-pull";
      },
      /proj:nodeRouter\.imagePullSecrets: /,
    ],
    [
      "an agent image without a digest",
      (c) => {
        c.nodeRouter.image = "ghcr.io/wg-mesh/node-router:0.1.0";
      },
      /proj:nodeRouter\.image: "ghcr\.io\/wg-mesh\/node-router:0\.1\.0" is not pinned by digest.*agent\/Dockerfile/,
    ],
    [
      "an unknown node to replace",
      (c) => {
        c.cluster.replaceNodes = ["demo-aws-w-7"];
      },
      /proj:cluster\.replaceNodes\.0: "demo-aws-w-7" is not a node of this stack/,
    ],
    [
      "an API endpoint with a scheme",
      (c) => {
        c.cluster.apiEndpoint = "https://api.example.com:6443";
      },
      /proj:cluster\.apiEndpoint: .* give only the host \(no scheme, no port/,
    ],
    [
      "malformed CIDR",
      (c) => {
        c.cluster.podCidr = "10.244.0.0/33";
      },
      /proj:cluster\.podCidr: "10\.244\.0\.0\/33" is not a CIDR/,
    ],
    [
      "short IPv4 form",
      (c) => {
        c.cluster.podCidr = "10.244/16";
      },
      /proj:cluster\.podCidr: "10\.244\/16" is not a CIDR \(write IPv4 as four dotted numbers/,
    ],
    [
      "host bits set",
      (c) => {
        c.cluster.podCidr = "10.244.1.0/16";
      },
      /did you mean 10\.244\.0\.0\/16\?/,
    ],
    [
      "zone outside region",
      (c) => {
        c.aws.pools[0].zone = "us-east-1a";
      },
      /proj:aws\.pools\.0\.zone: zone "us-east-1a" is not in region "eu-west-1"/,
    ],
    [
      "duplicate pool names",
      (c) => {
        c.aws.pools[1].name = "cp";
      },
      /proj:aws\.pools\.1\.name: duplicate pool name "cp"/,
    ],
    [
      "more nodes than the program is tested with",
      (c) => {
        // Three zones of at most four pools, each pool's block of a /21 holding its 100.
        const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
        c.aws.subnetCidrs = Object.fromEntries(zones.map((z, i) => [z, `10.10.${8 * (i + 1)}.0/21`]));
        const zoneOf = (i: number) => (i < 2 ? zones[0] : zones[1 + (i % 2)]);
        c.aws.pools.push(
          ...Array.from({ length: 10 }, (_, i) => ({ name: `w${i + 2}`, role: "worker", count: 100, machineType: "t3.large", zone: zoneOf(i) })),
        );
        c.aws.quotas = { elasticIps: 1100, rulesPerSecurityGroup: 1000 };
      },
      /proj:aws\|gcp\.pools: 10\d\d nodes; at most 1000: the most the program is tested with/,
    ],
    [
      "a pool with more nodes than its block of the zone's subnet",
      (c) => {
        c.aws.pools[1].count = 63;
        c.aws.quotas = { elasticIps: 100, rulesPerSecurityGroup: 1000 };
      },
      /proj:aws\.pools\.1\.count: 63 nodes, but a pool's block of zone eu-west-1a's subnet 10\.10\.1\.0\/24 holds 62 .*give the zone a larger subnet in aws\.subnetCidrs\.eu-west-1a/,
    ],
    [
      "more pools in one zone than its subnet has blocks",
      (c) => {
        c.aws.pools.push(...["x", "y", "z"].map((name) => ({ name, role: "worker", count: 1, machineType: "t3.large", zone: "eu-west-1a" })));
      },
      /proj:aws\.pools: 5 pools share zone eu-west-1a's subnet 10\.10\.1\.0\/24, at most 4 can .*merge pools or place some in another zone/,
    ],
    [
      "GCP nodes beyond the subnet's block",
      (c) => {
        c.gcp = {
          project: "demo-project-123",
          region: "europe-west1",
          subnetCidr: "10.20.1.0/28",
          image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101",
          pools: [{ name: "w", role: "worker", count: 4, machineType: "e2-standard-2", zone: "europe-west1-b" }],
        };
      },
      /proj:gcp\.pools\.0\.count: 4 nodes, but a pool's block of the GCP subnet 10\.20\.1\.0\/28 holds 3 .*set gcp\.subnetCidr to a larger range/,
    ],
    [
      "misspelled key",
      (c) => {
        c.cluster.podCIDR = "10.0.0.0/8";
      },
      /proj:cluster: unknown key\(s\) podCIDR; remove them or fix the spelling/,
    ],
    [
      "missing cluster",
      (c) => {
        delete c.cluster;
      },
      /proj:cluster: required/,
    ],
    [
      "bad admin CIDR",
      (c) => {
        c.cluster.adminCidrs = ["everyone"];
      },
      /proj:cluster\.adminCidrs\.0: "everyone" is not a CIDR/,
    ],
    [
      "a WireGuard source other than nodes or anywhere",
      (c) => {
        c.cluster.wireguardFrom = "0.0.0.0/0";
      },
      /proj:cluster\.wireguardFrom: "nodes" \(each node's address, the default\) or "anywhere" \(0\.0\.0\.0\/0, for large clusters; README, "Cloud firewalls"\)/,
    ],
    [
      "the retired upgrade confirmation",
      (c) => {
        c.cluster.upgradeConfirmed = { kubernetesVersion: "1.34.2", containerdVersion: "1.7.28" };
      },
      /proj:cluster\.upgradeConfirmed: no longer used: `pulumi up` now upgrades the running nodes itself .*remove it with `pulumi config rm --path`/,
    ],
    [
      "no worker at a time",
      (c) => {
        c.cluster.upgrade = { maxUnavailable: 0 };
      },
      /proj:cluster\.upgrade\.maxUnavailable: .*>=1/,
    ],
    [
      "an unknown upgrade setting",
      (c) => {
        c.cluster.upgrade = { maxSurge: 1 };
      },
      /proj:cluster\.upgrade: unknown key\(s\) maxSurge/,
    ],
  ];
  it.each(cases)("rejects %s with a message naming the key and the fix", (_what, mutate, message) => {
    const c = base();
    mutate(c);
    const problems = problemsOf(c);
    expect(problems.join("\n")).toMatch(message);
  });

  it("accepts a pinned GCP image and rejects a family, which moves", () => {
    const gcp = {
      project: "demo-project-123",
      region: "europe-west1",
      pools: [{ name: "w", role: "worker", count: 1, machineType: "e2-standard-2", zone: "europe-west1-b" }],
    };
    const ok = { ...base(), gcp: { ...gcp, image: "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260101" } };
    expect(() => validateStackConfig(ok, "proj")).not.toThrow();
    for (const image of ["ubuntu-os-cloud/ubuntu-2404-lts-amd64", "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"]) {
      expect(problemsOf({ ...base(), gcp: { ...gcp, image } }).join("\n")).toMatch(
        /proj:gcp\.image: .* image family .* pin one image, projects\/<project>\/global\/images\/<image>; record the current Ubuntu 24\.04 LTS image with `scripts\/pin-images\.sh <stack>`/,
      );
    }
    expect(problemsOf({ ...base(), gcp }).join("\n")).toMatch(/proj:gcp\.image: required: the image new GCP nodes boot, pinned/);
  });

  it("accepts several control planes to rebuild (they go one at a time, each once etcd is whole)", () => {
    const c = base();
    c.aws.pools[0].count = 3;
    c.cluster.replaceNodes = ["demo-aws-cp-0", "demo-aws-cp-2"];
    expect(validateStackConfig(c, "proj").model.cluster.replaceNodes).toEqual(["demo-aws-cp-0", "demo-aws-cp-2"]);
  });

  it("warns that replacing the only control plane starts a new cluster", () => {
    const c = base();
    c.cluster.replaceNodes = ["demo-aws-cp-0"];
    expect(validateStackConfig(c, "proj").warnings.join("\n")).toMatch(/demo-aws-cp-0 is the only control plane: replacing it creates a new, empty cluster/);
  });

  it("warns, without failing, on an even number of etcd members unless acknowledged", () => {
    const c = base();
    c.aws.pools[0].count = 2;
    expect(validateStackConfig(c, "proj").warnings.join("\n")).toMatch(/even number of etcd members.*proj:cluster\.allowEvenEtcdMembers/);
    const acked = { ...c, cluster: { ...c.cluster, allowEvenEtcdMembers: true } };
    expect(validateStackConfig(acked, "proj").warnings).toEqual([]);
  });

  it("reports every problem at once", () => {
    const c: any = base();
    c.cluster.serviceCidr = "10.244.0.0/20";
    c.aws.pools[0].zone = "us-east-1a";
    expect(problemsOf(c).length).toBeGreaterThanOrEqual(2);
  });
});

describe("validateStackConfig: what runs on the cluster", () => {
  const cases: [string, (c: any) => void, RegExp][] = [
    [
      "unsupported Cilium chart version",
      (c) => {
        c.cilium = { version: "1.16.3" };
      },
      /proj:cilium\.version/,
    ],
    [
      "exempt port outside the bootstrap set",
      (c) => {
        c.nodeRouter = { ...c.nodeRouter, exemptPorts: [6443, 10250] };
      },
      /proj:nodeRouter\.exemptPorts: 10250 outside the bootstrap ports/,
    ],
    [
      "a reserved routing table",
      (c) => {
        c.nodeRouter = { ...c.nodeRouter, steeringTable: 254 };
      },
      /proj:nodeRouter\.steeringTable = "254": must not be a reserved table/,
    ],
    [
      "a mark outside its mask",
      (c) => {
        c.nodeRouter = { ...c.nodeRouter, wgMark: 0x1e00 };
      },
      /proj:nodeRouter\.wgMark 0x1e00 has bits outside proj:nodeRouter\.wgMask 0xf00/,
    ],
    [
      "metrics on the health port, off loopback",
      (c) => {
        c.nodeRouter = { ...c.nodeRouter, metricsAddress: "0.0.0.0:9871" };
      },
      /proj:nodeRouter\.metricsAddress: port 9871 is the health port/,
    ],
    [
      "native routing CIDR not covering the pod CIDR",
      (c) => {
        c.cilium = { nativeRoutingCidr: "10.244.0.0/24" };
      },
      /proj:cilium\.nativeRoutingCidr: 10\.244\.0\.0\/24 does not cover the pod CIDR/,
    ],
    [
      "a malformed native routing CIDR",
      (c) => {
        c.cilium = { nativeRoutingCidr: "10.244/16" };
      },
      /proj:cilium\.nativeRoutingCidr: "10\.244\/16" is not an IPv4 CIDR/,
    ],
  ];
  it.each(cases)("rejects %s", (_what, mutate, message) => {
    const c = base();
    mutate(c);
    expect(problemsOf(c).join("\n")).toMatch(message);
  });

  it("accepts extra exempt ports only with the explicit opt-in", () => {
    const c: any = base();
    c.nodeRouter = { ...c.nodeRouter, exemptPorts: [6443, 10250], allowExtraExemptPorts: true };
    expect(() => validateStackConfig(c, "proj")).not.toThrow();
  });
});
