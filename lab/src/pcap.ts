// Pure: reads the pcap file the underlay capture writes (tcpdump -w) and finds the packets whose
// bytes contain a payload marker. Markers are searched in the whole captured frame, so a marker
// in a TCP segment, a UDP datagram, an ICMP error's body or a hand-made frame is found alike.
// Only classic pcap (what tcpdump writes), either byte order; link types: Linux "cooked" v1/v2
// (tcpdump -i any), Ethernet, raw IP.

export interface PcapPacket {
  /** Seconds since the epoch. */
  t: number;
  /** "ip" / "ip6" with addresses and protocol when the frame is IP; else "other". */
  kind: "ip" | "ip6" | "other";
  src?: string;
  dst?: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6). */
  proto?: number;
  sport?: number;
  dport?: number;
  data: Buffer;
}

const LINKTYPE = { ethernet: 1, raw: 101, sll: 113, sll2: 276 } as const;

/** Offset of the network-layer header and its ethertype, per link type. */
function network(linktype: number, frame: Buffer): { offset: number; ethertype: number } | undefined {
  switch (linktype) {
    case LINKTYPE.sll:
      return frame.length >= 16 ? { offset: 16, ethertype: frame.readUInt16BE(14) } : undefined;
    case LINKTYPE.sll2:
      return frame.length >= 20 ? { offset: 20, ethertype: frame.readUInt16BE(0) } : undefined;
    case LINKTYPE.ethernet:
      return frame.length >= 14 ? { offset: 14, ethertype: frame.readUInt16BE(12) } : undefined;
    case LINKTYPE.raw:
      return frame.length >= 1 ? { offset: 0, ethertype: frame[0] >> 4 === 6 ? 0x86dd : 0x0800 } : undefined;
    default:
      return undefined;
  }
}

const ipv6Text = (b: Buffer) =>
  Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16))
    .join(":")
    .replace(/(^|:)0(:0)+(:|$)/, "::");

function describe(linktype: number, frame: Buffer): Omit<PcapPacket, "t" | "data"> {
  const n = network(linktype, frame);
  if (!n) return { kind: "other" };
  const ip = frame.subarray(n.offset);
  const ports = (at: number, proto: number) =>
    (proto === 6 || proto === 17) && ip.length >= at + 4 ? { sport: ip.readUInt16BE(at), dport: ip.readUInt16BE(at + 2) } : {};
  if (n.ethertype === 0x0800 && ip.length >= 20) {
    const proto = ip[9];
    return { kind: "ip", src: [...ip.subarray(12, 16)].join("."), dst: [...ip.subarray(16, 20)].join("."), proto, ...ports((ip[0] & 0xf) * 4, proto) };
  }
  if (n.ethertype === 0x86dd && ip.length >= 40) {
    const proto = ip[6];
    return { kind: "ip6", src: ipv6Text(ip.subarray(8, 24)), dst: ipv6Text(ip.subarray(24, 40)), proto, ...ports(40, proto) };
  }
  return { kind: "other" };
}

/** Every complete record of a pcap file (a record still being written at the end is left out). */
export function parsePcap(file: Buffer): PcapPacket[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) throw new Error(`not a pcap file (magic 0x${magic.toString(16)}): the capture must be written by tcpdump -w`);
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (at: number) => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linktype = u32(20) & 0xffff;
  const packets: PcapPacket[] = [];
  for (let at = 24; at + 16 <= file.length;) {
    const caplen = u32(at + 8);
    if (at + 16 + caplen > file.length) break;
    const data = file.subarray(at + 16, at + 16 + caplen);
    packets.push({ t: u32(at) + u32(at + 4) / (nano ? 1e9 : 1e6), ...describe(linktype, data), data });
    at += 16 + caplen;
  }
  return packets;
}

/** Packets whose bytes contain the marker (ASCII). */
export function withMarker(packets: PcapPacket[], marker: string): PcapPacket[] {
  const needle = Buffer.from(marker, "latin1");
  return packets.filter((p) => p.data.includes(needle));
}

/** One line per packet, for test output. */
export function packetText(p: PcapPacket): string {
  const proto = { 1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6" }[p.proto ?? -1] ?? `proto ${p.proto}`;
  const port = (a?: string, n?: number) => (n === undefined ? a : `${a}.${n}`);
  return p.kind === "other" ? `non-IP frame of ${p.data.length} bytes` : `${proto} ${port(p.src, p.sport)} > ${port(p.dst, p.dport)} (${p.data.length} bytes)`;
}
