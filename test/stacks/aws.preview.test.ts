import { describeFirstPreview } from "../policyPhases";

describeFirstPreview("aws");
