#!/usr/bin/env python3
# The world outside the cluster, as the lab's nodes see it: run in the underlay namespace, it
# serves the instance metadata stand-in (169.254.169.254: HTTP on TCP 80 with a fake credential,
# DNS on UDP and TCP 53, as GCP's metadata server is also the VPC resolver) and an "internet"
# host (HTTP on TCP 80 of every other address). Prints "ready" once every socket listens.
import socket
import socketserver
import struct
import sys
import threading

CREDENTIAL = b'{"AccessKeyId": "LABFAKEKEY", "SecretAccessKey": "lab-not-a-secret"}\n'


class Http(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        try:
            self.request.recv(4096)
            body = CREDENTIAL
            self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass


def answer(query: bytes) -> bytes:
    """The query back as a response (QR set) with one A record 192.0.2.53: enough to be 'answered'."""
    if len(query) < 12:
        return b""
    qid = query[:2]
    header = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    question = query[12:]
    record = struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4, socket.inet_aton("192.0.2.53"))
    return header + question + record


class DnsUdp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(answer(data), self.client_address)


class DnsTcp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        try:
            n = struct.unpack("!H", self.request.recv(2))[0]
            reply = answer(self.request.recv(n))
            self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except (OSError, struct.error):
            pass


class Tcp(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class Udp(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True


servers = [Tcp(("0.0.0.0", 80), Http), Tcp(("0.0.0.0", 53), DnsTcp), Udp(("0.0.0.0", 53), DnsUdp)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdout.write("ready\n")
sys.stdout.flush()
threading.Event().wait()
