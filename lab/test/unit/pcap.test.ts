// pcap.ts: records of a classic pcap file (Linux cooked v2, as tcpdump -i any writes) are read,
// described and searched for a payload marker; a record still being written is left out.
import { packetText, parsePcap, withMarker } from "../../src/pcap";

function pcap(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(2048, 16);
  header.writeUInt32LE(276, 20); // LINKTYPE_LINUX_SLL2
  const records = frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1000 + i, 0);
    r.writeUInt32LE(500000, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([header, ...records]);
}

function udpFrame(src: number[], dst: number[], payload: string): Buffer {
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x0800, 0);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(5000, 2);
  return Buffer.concat([sll2, ip, udp, Buffer.from(payload)]);
}

test("finds the frames carrying a marker, with addresses and ports", () => {
  const file = pcap([udpFrame([198, 51, 100, 11], [198, 51, 100, 12], "udp NRLABMKabc-udp-node"), udpFrame([10, 0, 0, 1], [10, 0, 0, 2], "other")]);
  const all = parsePcap(file);
  expect(all).toHaveLength(2);
  const found = withMarker(all, "NRLABMKabc");
  expect(found.map(packetText)).toEqual([`udp 198.51.100.11.40000 > 198.51.100.12.5000 (${found[0].data.length} bytes)`]);
  expect(found[0].t).toBeCloseTo(1000.5);
});

test("a truncated last record is left out; a file that is not pcap is refused", () => {
  const file = pcap([udpFrame([1, 2, 3, 4], [5, 6, 7, 8], "x"), udpFrame([1, 2, 3, 4], [5, 6, 7, 8], "y")]);
  expect(parsePcap(file.subarray(0, file.length - 3))).toHaveLength(1);
  expect(() => parsePcap(Buffer.alloc(40))).toThrow(/not a pcap file/);
});
