// Where a Cilium chart comes from, as the pack can tell without fetching it: the Cilium project's
// own repositories (the Helm repository https://helm.cilium.io and the OCI one under
// oci://quay.io/cilium/charts) serve the charts whose templates and defaults the pack models
// (lib/cilium-helm.ts, the reference values of each supported line); a chart from anywhere else
// (a mirror, a local directory or archive, a repository alias resolved by the machine's Helm
// configuration) may render anything from the same values.
import type { Res } from "./resources";
import { isUnknown, UNKNOWN, type Unknown } from "./unknowns";
import { at } from "./values";

export const OFFICIAL_HELM_REPOSITORY = "https://helm.cilium.io";
export const OFFICIAL_OCI_PREFIX = "oci://quay.io/cilium/charts";

/** Another origin than Cilium's own: as the user wrote it (repository or chart reference), and in words. */
export interface OtherOrigin {
  ref: string;
  what: string;
}
/** The chart's origin: Cilium's own ("official"), another one, or unknown at preview. */
export type ChartOrigin = "official" | OtherOrigin | Unknown;

const trimSlash = (s: string) => s.trim().replace(/\/+$/, "");

export function chartOrigin(res: Res): ChartOrigin {
  const chart = res.props["chart"];
  const repo = at(res.props, "repositoryOpts.repo");
  if (isUnknown(chart) || isUnknown(repo)) return UNKNOWN;
  if (typeof chart !== "string") return { ref: String(chart), what: "a chart that is not named" };
  const c = chart.trim();
  if (c.toLowerCase().startsWith("oci://")) {
    const official = trimSlash(c).toLowerCase() === `${OFFICIAL_OCI_PREFIX}/cilium`;
    return official ? "official" : { ref: c, what: `the OCI chart ${c}` };
  }
  if (typeof repo === "string" && repo.trim() !== "") {
    const r = trimSlash(repo);
    if (r.toLowerCase() === OFFICIAL_HELM_REPOSITORY || r.toLowerCase() === OFFICIAL_OCI_PREFIX) return "official";
    return { ref: r, what: `the repository ${r}` };
  }
  // No repository: a local directory or archive, or `alias/cilium` from this machine's Helm repositories.
  return {
    ref: c,
    what:
      c.includes("/") && !c.startsWith(".") && !c.startsWith("/") && !c.endsWith(".tgz")
        ? `the Helm repository alias in ${c}, which this machine's Helm configuration resolves`
        : `the local chart ${c}`,
  };
}
