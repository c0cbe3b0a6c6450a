// The preflight: what would let `pulumi up` start and then hang (or fail half-way) is
// refused before any resource is registered, in preview as in update: admin CIDRs that can
// never reach the API, an agent image the nodes cannot pull, quotas that do not fit. Each
// check is skipped by naming it in `preflight.skip` (./schema.ts).
import * as pulumi from "@pulumi/pulumi";
import type { StackModel } from "../model";
import { adminCidrProblems } from "./adminCidrs";
import { checkAnonymousPull, pullCheckMessage, type RegistryClientOptions } from "./registry";
import { quotaChecks, quotaVerdict } from "./quotas";
import type { PreflightCheck } from "./schema";

export class PreflightError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`preflight refused the run (nothing was created):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PreflightError";
  }
}

export interface PreflightOptions {
  /** Test-only: how the registry stand-in is reached (production: https). */
  readonly registry?: RegistryClientOptions;
}

export interface PreflightResult {
  readonly problems: string[];
  readonly warnings: string[];
}

/** Runs every check the stack does not skip; `project` is the config namespace. */
export async function preflight(model: StackModel, project: string, o: PreflightOptions = {}): Promise<PreflightResult> {
  const skip = new Set<PreflightCheck>(model.preflight.skip);
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!skip.has("adminCidrs")) problems.push(...adminCidrProblems(model.cluster.adminCidrs ?? [], `${project}:cluster.adminCidrs`));
  const [pull, quotas] = await Promise.all([
    skip.has("imagePull") ? undefined : checkAnonymousPull(model.nodeRouter.image, o.registry),
    skip.has("quotas") ? [] : quotaChecks(model, project),
  ]);
  if (pull) {
    const m = pullCheckMessage(pull, model.nodeRouter.image, `${project}:nodeRouter.image`);
    // With pull Secrets the DaemonSet, the only puller (the boot-time guard needs no image), has
    // credentials: an anonymous refusal is then expected and only said, not refused.
    const withSecrets = (model.nodeRouter.imagePullSecrets ?? []).length > 0;
    if (m.problem && withSecrets)
      warnings.push(`${m.problem} (not refused: ${project}:nodeRouter.imagePullSecrets is set, so the DaemonSet pulls with credentials)`);
    else if (m.problem) problems.push(m.problem);
    if (m.warning) warnings.push(m.warning);
  }
  for (const q of quotas) {
    const v = quotaVerdict(q);
    if (v.problem) problems.push(v.problem);
    if (v.warning) warnings.push(v.warning);
  }
  return { problems, warnings };
}

/** The preflight as the program runs it: warnings to the Pulumi log, refusals thrown. */
export async function runPreflight(model: StackModel, project: string, o: PreflightOptions = {}): Promise<void> {
  const { problems, warnings } = await preflight(model, project, o);
  for (const w of warnings) await pulumi.log.warn(w);
  if (problems.length > 0) throw new PreflightError(problems);
}
