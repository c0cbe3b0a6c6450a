// What a variant must produce in a phase (see fixtures/variants.ts), judged the same way for
// diagnostics from the analyzer protocol and for outcomes of the in-process harness.
import type { Policies } from "@pulumi/policy";
import type { Diagnostic } from "./analyzer-client";
import type { Variant } from "./fixtures/variants";
import type { Outcome } from "./harness";
import type { Phase } from "./phases";

type Finding = Pick<Diagnostic, "policy" | "level" | "message">;

/** In-process outcomes as the analyzer would report them: violations at the policy's level, unchecked as advisory. */
export function asFindings(outcomes: Map<string, Outcome>, policies: Policies): Finding[] {
  const level = (name: string) => (policies.find((p) => p.name === name)?.enforcementLevel === "advisory" ? "advisory" : "mandatory");
  return [...outcomes].flatMap(([policy, o]) => [
    ...o.violations.map((v): Finding => ({ policy, level: level(policy), message: v.message })),
    ...(o.unchecked ? [{ policy, level: "advisory" as const, message: o.unchecked }] : []),
  ]);
}

/** Problems with the findings for a compliant stack: any mandatory finding. */
export function compliantProblems(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.level === "mandatory").map((f) => `unexpected mandatory ${f.policy}: ${f.message}`);
}

/** Policy levels a --policy-pack-config file sets (`"name": "mandatory"` or `{enforcementLevel}`). */
export function configuredLevels(file: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(file).flatMap(([name, v]) => {
      const level = typeof v === "string" ? v : (v as { enforcementLevel?: string }).enforcementLevel;
      return level ? [[name, level]] : [];
    }),
  );
}

/** Problems with the findings for a variant in a phase (under configured levels); empty when they are what the variant expects. */
export function variantProblems(v: Variant, phase: Phase, findings: readonly Finding[], levels: Record<string, string> = {}): string[] {
  const mine = findings.filter((f) => f.policy === v.rejectedBy);
  const mandatory = mine.filter((f) => f.level === "mandatory");
  const advisory = mine.filter((f) => f.level === "advisory");
  const problems: string[] = [];
  if (v.secure) {
    problems.push(...compliantProblems(findings));
    // Nor a finding, at any level, from the policy it exercises (what a phase cannot know aside).
    problems.push(...mine.filter((f) => !f.message.includes("could not be checked")).map((f) => `unexpected ${f.level} ${f.policy}: ${f.message}`));
  } else if (v.accepted) {
    problems.push(...compliantProblems(findings));
    if (advisory.length === 0) problems.push(`no advisory from ${v.rejectedBy}`);
  } else if (v.undecidedIn?.includes(phase)) {
    if (mandatory.length > 0) problems.push(`${v.rejectedBy} decided although the deciding values are unknown: ${mandatory[0].message}`);
    if (!advisory.some((f) => f.message.includes("could not be checked"))) problems.push(`no "could not be checked" from ${v.rejectedBy}`);
  } else if ((levels[v.rejectedBy] ?? v.level ?? "mandatory") === "advisory") {
    if (advisory.length === 0) problems.push(`no advisory from ${v.rejectedBy}`);
    if (mandatory.length > 0) problems.push(`mandatory from advisory ${v.rejectedBy}`);
  } else if (mandatory.length === 0) problems.push(`not rejected by ${v.rejectedBy}${advisory.length ? ` (only: ${advisory[0].message})` : ""}`);
  return problems;
}
