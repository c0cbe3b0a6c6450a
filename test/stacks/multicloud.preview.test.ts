import { describeFirstPreview } from "../policyPhases";

describeFirstPreview("multicloud");
