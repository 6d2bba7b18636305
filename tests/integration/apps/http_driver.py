"""HTTP/1.1 client driven over stdin, run as its own process so sockspan can trace it by pid.

    http_driver.py [--comm NAME]

Prints "ready" and then reads one JSON command per stdin line, answering each
with one JSON line on stdout, so a test can start it, learn its pid, start
sockspan and only then say "go" (send a command). Commands:

    {"op": "connect", "host": H, "port": P}
        open a keep-alive http.client connection  -> {"lport": N, "fd": its fd number}
    {"op": "requests", "reqs": [{"method": "GET", "path": "/x", "body": 0}, ...]}
        send them one after the other on that connection (body = request body
        size in bytes)  -> {"results": [{"status", "length", "lport", "body_ok"}, ...]}
    {"op": "pipeline", "host": H, "port": P, "reqs": [...], "piece": 0, "iov": 0}
        new raw socket, ALL requests written with a single send(), then the
        responses read in order  -> {"lport": N, "results": [{"status", "length"}, ...]}
        piece > 0: write them instead in pieces of that many bytes, one send()
        each, with a short pause between so the server's reads see them apart
        iov > 0: write them with one sendmsg() whose iovec entries hold that
        many bytes each
        after_first: more requests, written in one send() once the first
        response is read (while the rest are still due); after_all: more
        requests, one after the other once every response is read; their
        results follow in that order
    {"op": "abandon", "method": M, "path": P}
        send that request on the keep-alive connection, wait until its response
        has arrived, then drop the socket unread and without a close() of it:
        dup2() of /dev/null over its fd, which is then closed  -> {"fd": N}
    {"op": "close"}   close the keep-alive connection  -> {}
    {"op": "exit"}    -> {} and exit 0
Any failure answers {"error": "..."}.
"""
import argparse
import http.client
import os
import select
import socket
import sys
import time
from applib import serve_commands, set_comm


def body_of(size):
    pattern = b"request-body-"
    return (pattern * (size // len(pattern) + 1))[:size]


class Driver:
    def __init__(self):
        self.conn = None

    def connect(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.conn.connect()
        return {"lport": self.conn.sock.getsockname()[1], "fd": self.conn.sock.fileno()}

    def requests(self, reqs):
        results = []
        for r in reqs:
            body = body_of(r.get("body", 0)) if r.get("body") else None
            self.conn.request(r["method"], r["path"], body=body)
            lport = self.conn.sock.getsockname()[1]
            resp = self.conn.getresponse()
            data = resp.read()
            results.append({
                "status": resp.status,
                "length": len(data),
                "lport": lport,
                "body_ok": body is None or data == body,
            })
        return {"results": results}

    def pipeline(self, host, port, reqs, piece=0, iov=0, after_first=(), after_all=()):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect((host, port))
            lport = s.getsockname()[1]
            wire = wire_of(reqs, host, port)
            if piece:
                for i in range(0, len(wire), piece):
                    s.sendall(wire[i:i + piece])
                    time.sleep(0.005)
            elif iov:
                sent = s.sendmsg([wire[i:i + iov] for i in range(0, len(wire), iov)])
                if sent != len(wire):
                    raise RuntimeError(f"sendmsg sent {sent} of {len(wire)} bytes")
            else:
                s.sendall(wire)  # one send() syscall: the requests share a segment
            f = s.makefile("rb")
            results = [read_response(f)]
            if after_first:
                s.sendall(wire_of(after_first, host, port))
            results += [read_response(f) for _ in range(len(reqs) + len(after_first) - 1)]
            for r in after_all:
                s.sendall(wire_of([r], host, port))
                results.append(read_response(f))
            f.close()
        return {"lport": lport, "results": results}

    def abandon(self, method, path):
        self.conn.request(method, path)
        sock, self.conn = self.conn.sock, None
        fd = sock.fileno()
        if not select.select([sock], [], [], 30)[0]:
            raise RuntimeError("no response within 30 s")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, fd)  # the socket goes with its last fd, no close() names it
        os.close(null)
        sock.detach()
        os.close(fd)  # /dev/null's copy: the fd number is free again
        return {"fd": fd}

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        return {}


def wire_of(reqs, host, port):
    wire = b""
    for r in reqs:
        body = body_of(r.get("body", 0))
        wire += (f"{r['method']} {r['path']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    return wire


def read_response(f):
    """Read one HTTP/1.1 response (Content-Length or chunked) from a buffered socket file."""
    status_line = f.readline()
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, v = line.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        length = 0
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                f.readline()  # the CRLF closing an empty trailer section
                break
            length += len(f.read(size))
            f.read(2)
    else:
        length = len(f.read(int(headers.get("content-length", "0"))))
    return {"status": status, "length": length}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--comm", default="it-client")
    args = ap.parse_args()
    set_comm(args.comm)
    drv = Driver()
    return serve_commands(drv)


if __name__ == "__main__":
    sys.exit(main())
