import { describeStack } from "../stackAssertions";

describeStack("multicloud");
