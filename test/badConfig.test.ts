// A bad stack config fails before the program registers a single resource.
import { runProgram, stackConfig } from "./stackHarness";
import { installMocks } from "./pulumiMocks";

it("registers nothing when the config is invalid", async () => {
  const config = stackConfig("multicloud");
  const cluster = JSON.parse(config["wg-mesh-cluster:cluster"]);
  cluster.serviceCidr = cluster.podCidr; // overlap
  config["wg-mesh-cluster:cluster"] = JSON.stringify(cluster);
  const recorded = await installMocks("wg-mesh-cluster", "bad");
  await expect(runProgram("multicloud", config)).rejects.toThrow(/wg-mesh-cluster:cluster\.serviceCidr: .* overlaps wg-mesh-cluster:cluster\.podCidr/);
  expect(recorded).toEqual([]);
});
