// The policy pack, run as the Pulumi CLI runs it (run-policy-pack over the analyzer gRPC
// protocol), judges the resources the real program registered for a stack, as the CLI presents
// them during the `up` that creates it and in a later preview of the unchanged stack: no
// mandatory violation as shipped, and each insecure variant reported as it expects. The first
// preview has its own test files (test/stacks/<stack>.preview.test.ts, see policyPhases.ts).
import type { Recorded } from "./pulumiMocks";
import { describePolicyPhase, fromRecorded } from "./policyPhases";

export function policyChecks(getRecorded: () => Recorded[]): void {
  describePolicyPhase("up", (change) => fromRecorded(getRecorded(), "up", change));
  describePolicyPhase("later-preview", (change) => fromRecorded(getRecorded(), "later-preview", change));
}
