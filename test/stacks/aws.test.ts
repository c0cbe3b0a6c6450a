import { describeStack } from "../stackAssertions";

describeStack("aws");
