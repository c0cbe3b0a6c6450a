#!/usr/bin/env python3
# The lab's attacker: one probe per run, sending a payload MARKER the underlay capture looks for.
# Run by lab/src/attack.ts inside a node (or pod) namespace, usually through setpriv (an
# unprivileged user, or CAP_NET_RAW alone) and optionally inside a lab cgroup. Each probe puts
# the marker in the FIRST packet it sends, so "0 marker packets on the underlay" means nothing of
# the probe left in the clear: TCP uses Fast Open without a cookie (the netns sets
# net.ipv4.tcp_fastopen=5), so the SYN itself carries the marker even when no one answers.
# Prints one JSON line: {"ok": answered, "error": ..., "bytes": received}.
import argparse
import json
import select
import socket
import struct
import sys

MSG_FASTOPEN = 0x20000000
SO_MARK = 36
SO_BINDTODEVICE = 25


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def prepare(s: socket.socket, a) -> None:
    if a.mark is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, a.mark)
    if a.bind_dev:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.bind_dev.encode())
    if a.src or a.sport:
        # Several probes may bind the same source port towards different destinations.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.src or "", a.sport or 0))


def wait_answer(s: socket.socket, timeout: float) -> dict:
    ready, _, _ = select.select([s], [], [], timeout)
    if not ready:
        return {"ok": False, "error": "timeout"}
    try:
        data = s.recv(4096)
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return {"ok": len(data) > 0, "bytes": len(data), "answer": data[:200].decode("latin-1")}


def family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def addr(host: str, port: int):
    # A scoped IPv6 link-local address "fe80::1%eth0": getaddrinfo resolves the scope id.
    return socket.getaddrinfo(host, port, family(host), 0, 0, socket.AI_NUMERICHOST)[0][4]


def tcp(a) -> dict:
    s = socket.socket(family(a.host), socket.SOCK_STREAM)
    prepare(s, a)
    s.setblocking(False)
    payload = (a.payload or "GET /latest/meta-data/ HTTP/1.0\r\nX-Marker: %s\r\n\r\n").replace("%s", a.marker)
    try:
        s.sendto(payload.encode(), MSG_FASTOPEN, addr(a.host, a.port))
    except BlockingIOError:
        pass  # queued in the SYN, or the SYN is waiting for a route
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return wait_answer(s, a.timeout)


def udp(a) -> dict:
    s = socket.socket(family(a.host), socket.SOCK_DGRAM)
    prepare(s, a)
    try:
        for _ in range(a.count):
            s.sendto(("udp %s" % a.marker).encode(), addr(a.host, a.port))
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return wait_answer(s, a.timeout) if a.wait else {"ok": True, "sent": a.count}


def dns(a) -> dict:
    """A DNS query (A record for the marker as a name): answered means port 53 is open."""
    s = socket.socket(family(a.host), socket.SOCK_DGRAM)
    prepare(s, a)
    name = b"".join(bytes([len(p)]) + p.encode() for p in (a.marker.lower(), "lab")) + b"\0"
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
    s.sendto(query, addr(a.host, a.port or 53))
    r = wait_answer(s, a.timeout)
    r.pop("answer", None)
    return r


def raw_tcp(a) -> dict:
    """A TCP segment written by hand (IP_HDRINCL): no socket, no connection, any source port."""
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.host)
    payload = ("raw %s" % a.marker).encode()
    flags = 0x18  # PSH|ACK: mid-connection data, as a forged reply would be
    tcp_header = struct.pack("!HHIIBBHHH", a.sport, a.port, 1000, 1, 5 << 4, flags, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp_header) + len(payload))
    csum = checksum(pseudo + tcp_header + payload)
    tcp_header = tcp_header[:16] + struct.pack("!H", csum) + tcp_header[18:]
    total = 20 + len(tcp_header) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if a.mark is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, a.mark)
    if a.bind_dev:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.bind_dev.encode())
    try:
        for _ in range(a.count):
            s.sendto(ip + tcp_header + payload, (a.host, 0))
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return {"ok": True, "sent": a.count}


def icmp_error(a) -> dict:
    """ICMP destination-unreachable/fragmentation-needed of a.size bytes, its body carrying data."""
    body = (("icmp %s " % a.marker) * 64).encode()[: a.size - 8 - 20]
    # The body an ICMP error quotes starts with an IP header; a forged one, then the data.
    inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, socket.IPPROTO_UDP, 0, socket.inet_aton(a.host), socket.inet_aton(a.src or "0.0.0.0"))
    header = struct.pack("!BBHHH", 3, 4, 0, 0, 1280)
    msg = header + inner + body
    msg = msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if a.bind_dev:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.bind_dev.encode())
    try:
        for _ in range(a.count):
            s.sendto(msg, (a.host, 0))
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return {"ok": True, "sent": a.count, "bytes": len(msg)}


def frame(a) -> dict:
    """An Ethernet frame written to the device (AF_PACKET): IPv4/UDP to a.host, past every inet hook."""
    payload = ("frame %s" % a.marker).encode()
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.host)
    udp_header = struct.pack("!HHHH", a.sport or 40000, a.port, 8 + len(payload), 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, 8 + len(payload))
    udp_header = udp_header[:6] + struct.pack("!H", checksum(pseudo + udp_header + payload) or 0xFFFF)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0x4000, 64, socket.IPPROTO_UDP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex(a.dst_mac.replace(":", "")) + bytes.fromhex(a.src_mac.replace(":", "")) + struct.pack("!H", 0x0800)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.bind_dev, 0))
    try:
        for _ in range(a.count):
            s.send(eth + ip + udp_header + payload)
    except OSError as e:
        return {"ok": False, "error": e.strerror or str(e)}
    return {"ok": True, "sent": a.count}


PROBES = {"tcp": tcp, "udp": udp, "dns": dns, "raw-tcp": raw_tcp, "icmp-error": icmp_error, "frame": frame}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("probe", choices=sorted(PROBES))
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--marker", required=True)
    p.add_argument("--mark", type=lambda v: int(v, 0))
    p.add_argument("--bind-dev")
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--wait", action="store_true", help="udp: wait for an answer")
    p.add_argument("--payload", help="tcp: payload, %%s is replaced by the marker")
    p.add_argument("--size", type=int, default=488)
    p.add_argument("--src-mac")
    p.add_argument("--dst-mac")
    p.add_argument("--timeout", type=float, default=1.0)
    a = p.parse_args()
    try:
        result = PROBES[a.probe](a)
    except PermissionError as e:
        result = {"ok": False, "error": "EPERM: %s" % e}
    except OSError as e:
        result = {"ok": False, "error": e.strerror or str(e)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
