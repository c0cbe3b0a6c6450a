// The wg-mesh component package: what `pulumi package add` runs (PulumiPlugin.yaml). The
// Pulumi CLI starts `@pulumi/pulumi/cmd/run-plugin <this folder> <engine address>`, which
// loads this file; it serves the provider over gRPC and prints its port, as every plugin
// does. It exports no ComponentResource, so run-plugin does not start a second host.
import { main } from "@pulumi/pulumi/provider";
import { WgMeshProvider } from "./provider";

void main(new WgMeshProvider(__dirname), process.argv.slice(2));
