import { describeFirstPreview } from "../policyPhases";

describeFirstPreview("gcp");
