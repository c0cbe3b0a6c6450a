// The Google APIs the program uses, enabled before anything uses them: a fresh project has
// Secret Manager (and often Compute Engine and IAM) disabled, and the first call to a
// disabled API fails. Every GCP resource of the program depends on these. Destroying the
// stack leaves them enabled (`disableOnDestroy: false`): other workloads in the project
// may use them, and disabling Compute Engine would take their resources down with it.
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** compute: instances, addresses, networks, firewall rules; secretmanager: the PKI bundle; iam: service accounts. */
export const REQUIRED_APIS = ["compute.googleapis.com", "iam.googleapis.com", "secretmanager.googleapis.com"] as const;

export interface GcpApisArgs {
  /** The project to enable them in. */
  readonly project: string;
}

export class GcpApis extends pulumi.ComponentResource {
  /** What every GCP resource of the program depends on. */
  public readonly services: gcp.projects.Service[];

  constructor(name: string, args: GcpApisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wg-mesh:gcp:Apis", name, {}, opts);
    this.services = REQUIRED_APIS.map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split(".")[0]}`,
          { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.registerOutputs({ services: this.services.map((s) => s.service) });
  }
}
