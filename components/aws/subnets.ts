// One node subnet per availability zone, each with a CIDR that depends only on its own zone,
// so adding or removing a zone never changes (and so never replaces) another zone's subnet,
// and with it the network interfaces and instances in it.
import * as ipaddr from "ipaddr.js";
import { parseCidr } from "../core/cidr";

export interface ZoneSubnet {
  readonly zone: string;
  readonly cidr: string;
  /** True when the stack config named it (aws.subnetCidrs), false when derived. */
  readonly explicit: boolean;
}

const SUBNET_PREFIX = 24;

/**
 * The derived CIDR of `zone`: the /24 of `vpcCidr` numbered by the zone's letter (a = 1,
 * b = 2, ...), so eu-west-1a gets 10.10.1.0/24 in 10.10.0.0/16. Throws when the zone has
 * no letter suffix or the VPC is too small; the caller turns that into a config error.
 */
export function derivedSubnetCidr(vpcCidr: string, zone: string): string {
  const letter = /[a-z]$/.exec(zone)?.[0];
  if (!letter) throw new Error(`zone "${zone}" does not end in a letter; set its subnet in aws.subnetCidrs`);
  const vpc = parseCidr(vpcCidr);
  const index = letter.charCodeAt(0) - "a".charCodeAt(0) + 1;
  if (vpc.family !== 4 || vpc.prefix > SUBNET_PREFIX || index >= 2 ** (SUBNET_PREFIX - vpc.prefix)) {
    throw new Error(`the VPC ${vpcCidr} has no /${SUBNET_PREFIX} number ${index} for zone "${zone}"; set its subnet in aws.subnetCidrs`);
  }
  const base = ipaddr.IPv4.parse(vpc.address.toString()).toByteArray();
  const value = ((base[0] << 24) | (base[1] << 16) | (base[2] << 8) | base[3]) + index * 2 ** (32 - SUBNET_PREFIX);
  const bytes = [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff);
  return `${bytes.join(".")}/${SUBNET_PREFIX}`;
}

/** The subnet of every zone the pools use, sorted by zone. */
export function zoneSubnets(vpcCidr: string, zones: readonly string[], explicit: Readonly<Record<string, string>>): ZoneSubnet[] {
  return [...new Set(zones)]
    .sort()
    .map((zone) =>
      explicit[zone] !== undefined ? { zone, cidr: explicit[zone], explicit: true } : { zone, cidr: derivedSubnetCidr(vpcCidr, zone), explicit: false },
    );
}
