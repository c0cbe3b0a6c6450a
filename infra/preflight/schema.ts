// The stack keys of the preflight (infra/preflight/preflight.ts): which checks to skip, for
// air-gapped or unusual setups where a check cannot see what the nodes will see.
import { z } from "zod";

/** Every check the preflight runs, by the name `preflight.skip` takes. */
export const PREFLIGHT_CHECKS = ["adminCidrs", "imagePull", "quotas"] as const;
export type PreflightCheck = (typeof PREFLIGHT_CHECKS)[number];

export const preflightSchema = z
  .object({
    /** Checks not to run: adminCidrs (documentation ranges), imagePull (anonymous pull of nodeRouter.image), quotas (the clouds' live quotas). */
    skip: z.array(z.enum(PREFLIGHT_CHECKS)).default([]),
  })
  .strict()
  .default({ skip: [] });
