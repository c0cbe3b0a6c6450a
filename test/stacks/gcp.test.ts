import { describeStack } from "../stackAssertions";

describeStack("gcp");
