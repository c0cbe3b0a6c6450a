// The large-cluster mode (cluster.wireguardFrom: anywhere) on the multicloud stack in a first
// preview: the policy pack, run as the CLI runs it, finds no mandatory violation and every variant
// as it expects (wireguardFromAnywhere.test.ts: after `up` and in a later preview).
import { describeFirstPreview } from "./policyPhases";
import { editConfig, stackConfig } from "./stackHarness";

describeFirstPreview(
  "multicloud",
  editConfig(stackConfig("multicloud"), "cluster", (c) => (c.wireguardFrom = "anywhere")),
  "stack multicloud with cluster.wireguardFrom: anywhere",
);
