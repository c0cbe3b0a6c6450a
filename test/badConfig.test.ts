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

it("refuses a WireGuard source other than nodes or anywhere, naming the key, before anything is registered", async () => {
  const config = stackConfig("multicloud");
  const cluster = JSON.parse(config["wg-mesh-cluster:cluster"]);
  cluster.wireguardFrom = "everywhere";
  config["wg-mesh-cluster:cluster"] = JSON.stringify(cluster);
  const recorded = await installMocks("wg-mesh-cluster", "bad");
  await expect(runProgram("multicloud", config)).rejects.toThrow(
    /wg-mesh-cluster:cluster\.wireguardFrom: "nodes" \(each node's address, the default\) or "anywhere"/,
  );
  expect(recorded).toEqual([]);
});
