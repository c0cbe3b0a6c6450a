// The quota arithmetic, pure: free = limit - used elsewhere; unlimited; reads denied.
import { gcpQuotaValue, quotaVerdict, type QuotaCheck } from "./quotas";

const base: QuotaCheck = {
  key: "p:aws.quotas.elasticIps",
  quota: `"EC2-VPC Elastic IPs" (ec2, L-0263D0A3)`,
  where: "in eu-west-1",
  need: 5,
  limit: { ok: true, value: 5 },
  usedElsewhere: { ok: true, value: 0 },
  request: "release or request",
  fallback: "aws.quotas.elasticIps",
};

describe("quotaVerdict", () => {
  it("fits exactly", () => {
    expect(quotaVerdict(base)).toEqual({ warning: undefined });
  });

  it("refuses when what is used elsewhere leaves too little, naming the key, the quota and the fix", () => {
    expect(quotaVerdict({ ...base, usedElsewhere: { ok: true, value: 1 } }).problem).toBe(
      `p:aws.quotas.elasticIps: this run needs 5 of the quota "EC2-VPC Elastic IPs" (ec2, L-0263D0A3) in eu-west-1, which is 5 of which 1 already used outside this stack, so 4 free; release or request, or skip this check with preflight.skip: [quotas]`,
    );
  });

  it("a negative limit is unlimited", () => {
    expect(quotaVerdict({ ...base, need: 500, limit: { ok: true, value: -1 } })).toEqual({});
  });

  it("a denied limit warns and relies on the configured number; a denied usage compares with the whole quota", () => {
    expect(quotaVerdict({ ...base, limit: { ok: false, error: "AccessDenied" } })).toEqual({
      warning: expect.stringMatching(/could not read the quota .*\(AccessDenied\); relying on the configured aws\.quotas\.elasticIps$/),
    });
    const v = quotaVerdict({ ...base, need: 6, usedElsewhere: { ok: false, error: "UnauthorizedOperation" } });
    expect(v.warning).toMatch(/could not read what already uses .*UnauthorizedOperation/);
    expect(v.problem).toMatch(/needs 6 .* which is 5;/);
  });
});

describe("gcpQuotaValue", () => {
  const info = (dimensionsInfos: unknown[]) => ({ quotaId: "STATIC-ADDRESSES-per-project-region", dimensionsInfos }) as never;
  it("takes the region's value over the default", () => {
    const i = info([
      { dimensions: {}, details: [{ value: "8" }] },
      { dimensions: { region: "europe-west1" }, details: [{ value: "23" }] },
    ]);
    expect(gcpQuotaValue(i, "europe-west1")).toBe(23);
    expect(gcpQuotaValue(i, "us-east1")).toBe(8);
    expect(() => gcpQuotaValue(info([{ dimensions: { region: "x" }, details: [{ value: "1" }] }]), "y")).toThrow(/no value for y/);
  });
});
