# Packets the guard's kernel test sends and counts (guard.kernel.test.ts), with the socket options
# a shell cannot set: SO_MARK, raw IP segments, AF_PACKET frames (which skip the inet hooks).
# Every probe carries a payload marker; `sniff` counts frames carrying it on a device.
import signal, socket, struct, sys, time

SO_MARK = 36
PACKET_QDISC_BYPASS = 20


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(seg))
    return seg[:6] + struct.pack("!H", checksum(pseudo + seg)) + seg[8:]


def tcp(src, dst, sport, dport, flags, data):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    return seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]


def main(cmd, *a):
    if cmd == "sniff":  # IFACE MARKER: frames carrying MARKER (or "tcpdport:N": IPv4 TCP to port N) until SIGTERM
        iface, marker = a[0], a[1]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((iface, 0))
        s.settimeout(0.1)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        print("ready", flush=True)
        n = 0
        while not stop:
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING and iface.startswith("underlay"):
                continue  # the peer's own frames
            if marker.startswith("tcpdport:"):
                n += len(frame) >= 38 and frame[12:14] == b"\x08\x00" and frame[23] == 6 and struct.unpack("!H", frame[36:38])[0] == int(marker[9:])
            else:
                n += marker.encode() in frame
        print(n, flush=True)
    elif cmd == "udp":  # DST DPORT SPORT MARK MARKER
        s = socket.socket(socket.AF_INET6 if ":" in a[0] else socket.AF_INET, socket.SOCK_DGRAM)
        if int(a[3]):
            s.setsockopt(socket.SOL_SOCKET, SO_MARK, int(a[3]))
        s.bind(("", int(a[2])))
        for _ in range(3):
            try:
                s.sendto(a[4].encode(), (a[0], int(a[1])))
            except OSError as e:  # EPERM: the guard dropped it on the way out
                print(e.strerror)
    elif cmd == "tcp":  # DST DPORT SPORT MARK MARKER: connect (1 s), send the marker; refused = it left the node
        s = socket.socket(socket.AF_INET6 if ":" in a[0] else socket.AF_INET, socket.SOCK_STREAM)
        if int(a[3]):
            s.setsockopt(socket.SOL_SOCKET, SO_MARK, int(a[3]))
        if int(a[2]):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", int(a[2])))
        s.settimeout(1)
        try:
            if "%" in a[0]:  # fe80::x%dev
                host, dev = a[0].split("%")
                s.connect((host, int(a[1]), 0, socket.if_nametoindex(dev)))
            else:
                s.connect((a[0], int(a[1])))
            s.sendall(a[4].encode())
            print("connected")
        except ConnectionRefusedError:
            print("left")
        except (socket.timeout, TimeoutError):
            print("dropped")
        except OSError as e:
            print("dropped" if e.errno == 1 else "error %s" % e)
    elif cmd == "raw":  # KIND SRC DST MARKER: an IP packet written by hand (raw socket: CAP_NET_RAW)
        kind, src, dst, marker = a[0], a[1], a[2], a[3].encode()
        if kind == "frag-needed":  # ICMP 3/4 quoting a made-up datagram, with data after it: related to nothing
            inner = ipv4(dst, src, 17, udp(dst, src, 40000, 40001, marker * 8))
            body = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + inner
            payload, proto = body[:2] + struct.pack("!H", checksum(body)) + body[4:], socket.IPPROTO_ICMP
        else:  # tcp-6443: a SYN-ACK from source port 6443 that no connection asked for
            payload, proto = tcp(src, dst, 6443, 5000, 0x12, marker), socket.IPPROTO_TCP
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        for _ in range(3):
            try:
                s.sendto(ipv4(src, dst, proto, payload), (dst, 0))
            except OSError as e:
                print(e.strerror)
    elif cmd == "frame":  # IFACE DSTMAC SRC DST SPORT DPORT MARKER BYPASS: Ethernet/IPv4/UDP by AF_PACKET
        iface, mac, src, dst, sport, dport, marker, bypass = a
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        if bypass == "1":
            s.setsockopt(263, PACKET_QDISC_BYPASS, 1)  # SOL_PACKET
        s.bind((iface, 0))
        src_mac = open("/sys/class/net/%s/address" % iface).read().strip()
        eth = bytes.fromhex(mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
        for _ in range(3):
            try:
                s.send(eth + ipv4(src, dst, 17, udp(src, dst, int(sport), int(dport), marker.encode())))
            except OSError as e:  # ENOBUFS: the netdev chain dropped it
                print(e.strerror)
    elif cmd == "serve":  # PORT MARKER: accept one connection, answer with the marker
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", int(a[0])))
        s.listen(1)
        s.settimeout(5)
        print("ready", flush=True)
        c, _ = s.accept()
        c.sendall(a[1].encode())
        time.sleep(0.5)
        c.close()
    elif cmd == "fetch":  # BIND DST PORT: connect from BIND, print what comes back within 2 s
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a[0], 0))
        s.settimeout(2)
        try:
            s.connect((a[1], int(a[2])))
            print(s.recv(100).decode() or "closed")
        except OSError as e:
            print("error %s" % e)
    else:
        raise SystemExit("unknown probe " + cmd)


main(*sys.argv[1:])
