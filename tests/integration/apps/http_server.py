"""HTTP/1.1 test server, run as its own process so sockspan can trace it by pid.

    http_server.py [--host 127.0.0.1|::1] [--port 0] [--comm NAME] [--leader-exits]

Prints "listening <port>" once the socket accepts connections. Keep-alive on.
--leader-exits: another thread serves, and the main thread ends (pthread_exit)
when a line arrives on stdin: the process lives on without its thread group leader.
Routes (query strings are ignored):
    GET  /status/<code>   that status, small text body with Content-Length
                          (204 and 304: no body and no Content-Length, as RFC 9110 says)
    GET  /bytes/<n>       n bytes (a repeating pattern), Content-Length, one write
    GET  /chunked/<n>     Transfer-Encoding: chunked, n chunks, one write per chunk
    GET  /close/<n>       n bytes, no Content-Length: the body ends when the server closes
    GET  /sleep/<ms>      200 after ms milliseconds (a late answer; the requests behind it wait)
    POST /echo            the request body back, Content-Length
    HEAD <any GET route>  the GET's status and headers, no body
    anything else         404
Requests with "Expect: 100-continue" get an interim 100 response first.
The process renames itself (comm) so spans can be told apart from the client's.
"""
import argparse
import ctypes
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from applib import serve_http, set_comm


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says close

    def log_message(self, fmt, *args):
        pass  # stdout is our control channel, stderr stays for real errors

    def _path_parts(self):
        return self.path.split("?", 1)[0].strip("/").split("/")

    def _send(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        parts = self._path_parts()
        if len(parts) == 2 and parts[1].isdigit():
            route, n = parts[0], int(parts[1])
            if route == "status" and n in (204, 304):
                self.send_response(n)
                self.end_headers()
                return None
            if route == "status" and 200 <= n <= 599:
                return self._send(n, f"status {n}\n".encode())
            if route == "sleep":
                time.sleep(n / 1000)
                return self._send(200, b"slept\n")
            if route == "bytes":
                pattern = b"0123456789abcdef"
                body = (pattern * (n // len(pattern) + 1))[:n]
                return self._send(200, body, "application/octet-stream")
            if route == "close":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if self.command != "HEAD":
                    self.wfile.write(b"c" * n)
                return None
            if route == "chunked":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if self.command == "HEAD":
                    return None
                for i in range(n):
                    data = f"chunk {i} of {n}\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.write(b"0\r\n\r\n")
                return None
        return self._send(404, b"not found\n")

    do_HEAD = do_GET

    def do_POST(self):
        if self._path_parts() != ["echo"]:
            return self._send(404, b"not found\n")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        return self._send(200, body, "application/octet-stream")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # tests open hundreds of connections at once


class Server6(Server):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--comm", default="it-httpd")
    ap.add_argument("--leader-exits", action="store_true")
    args = ap.parse_args()
    set_comm(args.comm)
    cls = Server6 if ":" in args.host else Server
    srv = cls((args.host, args.port), Handler)
    if args.leader_exits:
        threading.Thread(target=serve_http, args=(srv,)).start()
        sys.stdin.readline()
        ctypes.CDLL(None).pthread_exit(None)  # ctypes lets go of the GIL first
    return serve_http(srv)


if __name__ == "__main__":
    sys.exit(main())
