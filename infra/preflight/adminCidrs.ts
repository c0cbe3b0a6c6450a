// cluster.adminCidrs must name real egress ranges: Pulumi's own /readyz poll comes from this
// machine through the API server's firewall, so a stack that admits only a documentation
// range (or nothing) hangs until the readiness timeout instead of failing now.
import * as ipaddr from "ipaddr.js";

/** RFC 5737 and RFC 3849: ranges reserved for examples, never anyone's egress. */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"] as const;

const FIX =
  "set your operators' / CI's egress range: `pulumi config set --path 'wg-mesh-cluster:cluster.adminCidrs[0]' <your-ip>/32` (`curl -s https://checkip.amazonaws.com` prints it)";

/** The documentation range `cidr` lies inside, if any (an invalid CIDR is validation's to report). */
export function documentationRangeOf(cidr: string): string | undefined {
  let net: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    net = ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
  return DOCUMENTATION_RANGES.find((r) => {
    const [base, bits] = ipaddr.parseCIDR(r);
    return net[0].kind() === base.kind() && net[1] >= bits && net[0].match(base, bits);
  });
}

/** Problems with cluster.adminCidrs; `key` is the full stack key, e.g. `wg-mesh-cluster:cluster.adminCidrs`. */
export function adminCidrProblems(cidrs: readonly string[], key: string): string[] {
  if (cidrs.length === 0) {
    return [`${key}: empty, so nothing but the nodes may reach the API server and this run's own readiness check would wait until its timeout; ${FIX}`];
  }
  return cidrs.flatMap((c, i) => {
    const range = documentationRangeOf(c);
    return range === undefined
      ? []
      : [
          `${key}[${i}]: ${c} is inside the documentation range ${range}, nobody's egress, so this run's readiness check could never reach the API server; ${FIX}`,
        ];
  });
}
