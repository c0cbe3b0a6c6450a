// The preflight through the real program under mocks: the shipped stacks refuse to run until
// the admin CIDR is set; the image check against a registry stand-in; the clouds' quotas as
// the mocks answer the providers' reads (enough, not enough, read denied). Every refusal
// registers nothing, in preview as in update, and each check is skipped by its key.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_INVOKES, gcpQuotaInfo, installMocks, type InvokeAnswers } from "./pulumiMocks";
import { editConfig, projectName, runProgram, shippedConfig, stackConfig, stackNames } from "./stackHarness";
import { DIGEST, startRegistry, type RegistryStandIn } from "./standins/registry";
import { validateStackConfig } from "../infra/validate";
import { rawProjectConfig } from "../infra/config";
import { preflight } from "../infra/preflight/preflight";

const key = (k: string) => `${projectName}:${k}`;
const withoutAdminCidrs = (stack: string) =>
  editConfig(stackConfig(stack), "cluster", (c) => {
    delete c.adminCidrs;
  });
const skipping = (config: Record<string, string>, skip: string[]) => ({ ...config, [key("preflight")]: JSON.stringify({ skip }) });

async function refusal(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the run was not refused");
}

describe("admin CIDRs", () => {
  it.each(stackNames())("the shipped %s stack refuses to run, in preview too, until cluster.adminCidrs is set; nothing is registered", async (stack) => {
    expect(JSON.parse(shippedConfig(stack)[key("cluster")]).adminCidrs).toBeUndefined();
    for (const preview of [true, false]) {
      const recorded = await installMocks(projectName, stack);
      const message = await refusal(runProgram(stack, withoutAdminCidrs(stack), preview));
      expect(message).toMatch(/^preflight refused the run \(nothing was created\):/);
      expect(message).toContain(`${key("cluster.adminCidrs")}: empty`);
      expect(recorded).toEqual([]);
    }
  });

  it("refuses a documentation range, as the stacks used to ship", async () => {
    const config = editConfig(stackConfig("aws"), "cluster", (c) => {
      c.adminCidrs = ["203.0.113.0/24"];
    });
    expect(await refusal(runProgram("aws", config, true))).toContain(
      `${key("cluster.adminCidrs")}[0]: 203.0.113.0/24 is inside the documentation range 203.0.113.0/24`,
    );
  });

  it("is skipped by preflight.skip: [adminCidrs] (with the image check the harness already skips)", async () => {
    const run = await runProgram("aws", skipping(withoutAdminCidrs("aws"), ["adminCidrs", "imagePull"]), true);
    expect(run.recorded.length).toBeGreaterThan(10);
  }, 60_000);

  it("preflight.skip takes only the checks' names", () => {
    const raw = rawProjectConfig(skipping(stackConfig("aws"), ["imagepull"]), projectName);
    expect(() => validateStackConfig(raw, projectName)).toThrow(/wg-mesh-cluster:preflight\.skip\.0: .*"adminCidrs"\|"imagePull"\|"quotas"/);
  });
});

describe("the agent image", () => {
  let registry: RegistryStandIn;
  beforeAll(async () => {
    registry = await startRegistry({ "acme/public-agent": 200, "acme/private-agent": 404 });
  });
  afterAll(() => registry.close());
  const withImage = (repo: string) =>
    skipping(
      editConfig(stackConfig("aws"), "nodeRouter", (n) => {
        n.image = `${registry.host}/${repo}@${DIGEST}`;
      }),
      [],
    );
  const standIn = { program: { preflight: { registry: { scheme: "http" as const } } } };

  it("a private package is refused before anything is registered, naming the fix", async () => {
    const recorded = await installMocks(projectName, "aws");
    const message = await refusal(runProgram("aws", withImage("acme/private-agent"), true, [], undefined, standIn));
    expect(message).toContain(`${key("nodeRouter.image")}: ${registry.host}/acme/private-agent@${DIGEST} is not pullable anonymously`);
    expect(message).toContain('make the package public (GitHub: the package\'s settings, "Change visibility") or set `nodeRouter.imagePullSecrets`');
    expect(recorded).toEqual([]);
  });

  it("a private package with nodeRouter.imagePullSecrets passes (the DaemonSet pulls with them; the boot guard needs no image)", async () => {
    const config = editConfig(withImage("acme/private-agent"), "nodeRouter", (n) => {
      n.imagePullSecrets = ["agent-pull"];
    });
    const run = await runProgram("aws", config, true, [], undefined, standIn);
    expect(run.recorded.length).toBeGreaterThan(10);
  }, 60_000);

  it("a public package passes", async () => {
    const run = await runProgram("aws", withImage("acme/public-agent"), true, [], undefined, standIn);
    expect(run.recorded.length).toBeGreaterThan(10);
  }, 60_000);

  it("is skipped by preflight.skip: [imagePull]", async () => {
    const config = skipping(withImage("acme/private-agent"), ["imagePull"]);
    await expect(runProgram("aws", config, true, [], undefined, standIn)).resolves.toBeDefined();
  }, 60_000);
});

describe("quotas", () => {
  /** An account with `eips` Elastic IPs of which `elsewhere` are allocated outside the stack, `vcpus` vCPUs, and a GCP project with `addresses` static addresses. */
  const world = (o: {
    eips?: number;
    elsewhere?: number;
    vcpus?: number;
    addresses?: number;
    running?: { id: string; type: string; name: string }[];
    deny?: string[];
  }): InvokeAnswers => {
    const denied = (token: string, f: (a: any) => Record<string, any>) => (a: any) => {
      if (o.deny?.includes(token)) throw new Error(`AccessDeniedException: User is not authorized to perform ${token}\n  at retry 1`);
      return f(a);
    };
    const answers: Record<string, (a: any) => Record<string, any>> = {
      ...DEFAULT_INVOKES,
      "aws:servicequotas/getServiceQuota:getServiceQuota": (a) => ({ value: a.quotaCode === "L-0263D0A3" ? (o.eips ?? 5) : (o.vcpus ?? 32) }),
      "aws:ec2/getEips:getEips": (a) => {
        const own = a.filters ? [] : Array.from({ length: o.elsewhere ?? 0 }, (_, i) => `eipalloc-other${i}`);
        return { allocationIds: own, publicIps: own.map(() => "192.0.2.1") };
      },
      "aws:ec2/getInstances:getInstances": () => ({ ids: (o.running ?? []).map((i) => i.id) }),
      "aws:ec2/getInstance:getInstance": (a) => {
        const i = o.running!.find((r) => r.id === a.instanceId)!;
        return { instanceType: i.type, tags: { Name: i.name } };
      },
      "aws:ec2/getInstanceType:getInstanceType": (a) => ({
        instanceType: a.instanceType,
        defaultVcpus: ({ "t3.medium": 2, "t3.large": 2, "m6i.4xlarge": 16, "p4d.24xlarge": 96 } as Record<string, number>)[a.instanceType],
      }),
      "gcp:cloudquota/getSQuotaInfo:getSQuotaInfo": (a) =>
        gcpQuotaInfo(a.quotaId, a.quotaId.startsWith("STATIC") ? (o.addresses ?? 8) : 100, a.quotaId.endsWith("-region") ? "europe-west1" : undefined),
    };
    return Object.fromEntries(Object.entries(answers).map(([t, f]) => [t, denied(t, f)]));
  };

  it("enough: the multicloud stack's 5 AWS nodes fit the default 5 Elastic IPs and 32 vCPUs", async () => {
    const run = await runProgram("multicloud", undefined, true, [], undefined, { invokes: world({}) });
    expect(run.recorded.length).toBeGreaterThan(10);
  }, 60_000);

  it("not enough: addresses allocated elsewhere and vCPUs are refused, each naming the quota, the key and the fix", async () => {
    const recorded = await installMocks(projectName, "multicloud");
    const message = await refusal(runProgram("multicloud", undefined, true, [], undefined, { invokes: world({ elsewhere: 2, vcpus: 8, addresses: 1 }) }));
    expect(message).toContain(
      `${key("aws.quotas.elasticIps")}: this run needs 5 of the quota "EC2-VPC Elastic IPs" (ec2, L-0263D0A3) in eu-west-1, which is 5 of which 2 already used outside this stack, so 3 free; release unused Elastic IPs`,
    );
    expect(message).toContain("--quota-code L-0263D0A3 --desired-value 7 --region eu-west-1");
    expect(message).toContain(
      `${key("aws.pools")}: this run needs 10 of the quota "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" vCPUs (ec2, L-1216C47A) in eu-west-1, which is 8;`,
    );
    expect(message).toContain(
      `${key("gcp.quotas.staticAddresses")}: this run needs 2 of the quota "Static IP addresses" (STATIC_ADDRESSES) in europe-west1 for project my-gcp-project, which is 1;`,
    );
    expect(message).toContain("or skip this check with preflight.skip: [quotas]");
    expect(recorded).toEqual([]);
  });

  it("vCPUs of standard instances running outside the stack are subtracted; its own nodes and other families are not", async () => {
    const running = [
      { id: "i-other", type: "m6i.4xlarge", name: "someone-elses" },
      { id: "i-gpu", type: "p4d.24xlarge", name: "training" },
      { id: "i-own", type: "t3.large", name: "meshmc-aws-workers-0" },
    ];
    // 32 vCPUs, 16 elsewhere (the GPU instance counts in another quota, the stack's own node is not elsewhere): 16 free, 10 needed.
    await expect(runProgram("multicloud", undefined, true, [], undefined, { invokes: world({ running }) })).resolves.toBeDefined();
    const message = await refusal(runProgram("multicloud", undefined, true, [], undefined, { invokes: world({ vcpus: 24, running }) }));
    expect(message).toContain(
      `${key("aws.pools")}: this run needs 10 of the quota "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" vCPUs (ec2, L-1216C47A) in eu-west-1, which is 24 of which 16 already used outside this stack, so 8 free;`,
    );
    expect(message).toContain("--quota-code L-1216C47A --desired-value 26 --region eu-west-1");
  }, 60_000);

  it("not enough is skipped by preflight.skip: [quotas]", async () => {
    const config = skipping(stackConfig("multicloud"), ["quotas", "imagePull"]);
    await expect(runProgram("multicloud", config, true, [], undefined, { invokes: world({ elsewhere: 2, vcpus: 8, addresses: 1 }) })).resolves.toBeDefined();
  }, 60_000);

  it("a denied read falls back to the configured numbers with a warning, and the run goes on", async () => {
    const deny = ["aws:servicequotas/getServiceQuota:getServiceQuota", "gcp:cloudquota/getSQuotaInfo:getSQuotaInfo"];
    await installMocks(projectName, "multicloud", true, [], [], world({ deny }));
    pulumi.runtime.setAllConfig(stackConfig("multicloud"));
    const { model } = validateStackConfig(rawProjectConfig(stackConfig("multicloud"), projectName), projectName);
    const { problems, warnings } = await preflight(model, projectName);
    expect(problems).toEqual([]);
    expect(warnings).toEqual(
      expect.arrayContaining([
        // (the provider's error in the parentheses; the mock monitor passes an invoke's failure on without its text)
        expect.stringMatching(
          /^wg-mesh-cluster:aws\.quotas\.elasticIps: could not read the quota "EC2-VPC Elastic IPs" \(ec2, L-0263D0A3\) in eu-west-1 \(.+\); relying on the configured aws\.quotas\.elasticIps$/,
        ),
        expect.stringMatching(/^wg-mesh-cluster:aws\.pools: could not read the quota .*L-1216C47A.*; not checked$/),
        expect.stringMatching(/^wg-mesh-cluster:gcp\.quotas\.staticAddresses: could not read .*relying on the configured gcp\.quotas\.staticAddresses$/),
        expect.stringMatching(/^wg-mesh-cluster:gcp\.quotas\.firewallRules: could not read .*relying on the configured gcp\.quotas\.firewallRules$/),
      ]),
    );
    await expect(runProgram("multicloud", undefined, true, [], undefined, { invokes: world({ deny }) })).resolves.toBeDefined();
  }, 60_000);
});
