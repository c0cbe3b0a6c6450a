// Pure WireGuard configuration, the way Cilium configures cilium_wg0: one listen port, the
// encrypted packets' firewall mark, and one peer per remote node whose allowed IPs are the
// remote node address and its pod CIDR.
import { generateKeyPairSync } from "node:crypto";
import { WG_PORT, type NodePlan } from "./plan";

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** A fresh Curve25519 key pair in WireGuard's base64 form (no `wg genkey` process needed). */
export function generateKeyPair(): KeyPair {
  const jwk = generateKeyPairSync("x25519").privateKey.export({ format: "jwk" });
  const b64 = (s: string | undefined) => Buffer.from(s ?? "", "base64url").toString("base64");
  return { privateKey: b64(jwk.d), publicKey: b64(jwk.x) };
}

export interface PeerView {
  node: NodePlan;
  /** The public key this node believes the peer has (it can be stale: see the reboot test). */
  publicKey: string;
}

/** Text for `wg setconf`, which replaces the whole configuration (peers not listed are removed). */
export function wgConfig(o: { privateKey: string; fwmark: number; peers: PeerView[] }): string {
  const lines = ["[Interface]", `PrivateKey = ${o.privateKey}`, `ListenPort = ${WG_PORT}`, `FwMark = 0x${o.fwmark.toString(16)}`];
  for (const p of o.peers) {
    lines.push(
      "",
      "[Peer]",
      `PublicKey = ${p.publicKey}`,
      `Endpoint = ${p.node.underlayIp}:${WG_PORT}`,
      `AllowedIPs = ${p.node.underlayIp}/32, ${p.node.podCidr}`,
    );
  }
  return lines.join("\n") + "\n";
}
