// systemd-networkd units for the dummy interface that holds the node's public IP.
//
// Why: kubelet refuses a --node-ip that is not on a local interface, but in AWS and GCP
// the public IP lives in the cloud's 1:1 NAT, never on the VM. A /32 on a dummy link makes
// it local without changing routing: outbound traffic still leaves the real NIC from the
// private address (the DHCP default route's preferred source), which the cloud NATs to
// this same public IP, and inbound traffic to it arrives DNATed to the private address.
// networkd recreates the link on every boot, so the address survives reboots.

export const MESH_INTERFACE = "wgmesh0";
const UNIT_DIR = "/etc/systemd/network";

export interface UnitFile {
  readonly path: string;
  readonly content: string;
}

function ini(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(([name, keys]) => [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k}=${v}`)].join("\n"))
    .join("\n\n")
    .concat("\n");
}

export function networkUnits(nodeIp: string): UnitFile[] {
  return [
    {
      path: `${UNIT_DIR}/50-${MESH_INTERFACE}.netdev`,
      content: ini({ NetDev: { Name: MESH_INTERFACE, Kind: "dummy" } }),
    },
    {
      path: `${UNIT_DIR}/50-${MESH_INTERFACE}.network`,
      content: ini({
        Match: { Name: MESH_INTERFACE },
        // No gateway, no DHCP: the address only has to exist locally.
        Network: { Address: `${nodeIp}/32`, LinkLocalAddressing: "no", IPv6AcceptRA: "no" },
        // Do not hold up network-online.target (and boot) waiting on a link with no carrier semantics.
        Link: { RequiredForOnline: "no" },
      }),
    },
  ];
}
