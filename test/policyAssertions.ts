// The policy pack, run as the Pulumi CLI runs it (run-policy-pack over the analyzer gRPC
// protocol), judges the resources the real program registered for a stack, as the CLI presents
// them during the `up` that creates it and in a later preview of the unchanged stack: no
// mandatory violation as shipped, and each insecure variant reported as it expects. The first
// preview has its own test files (test/stacks/<stack>.preview.test.ts, see policyPhases.ts).
import type { Recorded } from "./pulumiMocks";
import { describePolicyPhase, fromRecorded } from "./policyPhases";

/** The stack's name, from the URNs the mocks gave its resources (urn:pulumi:<stack>::...). */
const stackOf = (recorded: readonly Recorded[]) => recorded[0].urn.split("::")[0].replace(/^urn:pulumi:/, "");

export function policyChecks(getRecorded: () => Recorded[]): void {
  describePolicyPhase(
    "up",
    () => stackOf(getRecorded()),
    (change) => fromRecorded(getRecorded(), "up", change),
  );
  describePolicyPhase(
    "later-preview",
    () => stackOf(getRecorded()),
    (change) => fromRecorded(getRecorded(), "later-preview", change),
  );
}
