"""One service of a request chain: HTTP/1.1, a thread per connection (ThreadingHTTPServer).

    chain_http.py --host IP [--port 0] --comm NAME --propagate none|b3|xrid|zipkin
                  [--call http://IP:PORT | --call redis://IP:PORT]... [--zipkin-file PATH]
                  [--fail N]... [--slow N]...

Prints "listening <port>" once it accepts connections. Keep-alive on.

GET /chain/<n>: makes each --call in order, from the thread serving the request:
    http://...   GET /chain/<n> on that thread's own keep-alive http.client connection
    redis://...  GET key:<n> with that thread's own redis-py client (its own connection)
with the trace headers --propagate says (see chainlib), then answers 200 with JSON:
    {"service": comm, "n": n, "received": {trace headers as received},
     "calls": [{"to": "http", "sent": {...}, "status": 200, "reply": {...downstream's JSON}},
               {"to": "redis", "key": "key:<n>", "value": "..."}]}
A call that fails answers 502 with {"error": ...}; nothing is retried (a retry would be
one more request for the agent to see). --fail N: GET /chain/N makes its calls, then answers
500 (so its caller answers 502). --slow N: GET /chain/N sleeps SLOW_SECONDS before its calls
(before: every span of the request ends after the sleep, within moments of each other). zipkin: the spans go to --zipkin-file, written
before the answer is sent. Anything else: 404.
"""
import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from applib import serve_http, set_comm
from chainlib import TIMEOUT, Chain, Zipkin, service_args

NAME = "get /chain/{id}"
SLOW_SECONDS = 1.0


class HttpChain(Chain):
    """Shared by every handler thread; keep-alive connections per thread."""

    scheme, name = "http", NAME

    def __init__(self, *args):
        super().__init__(*args)
        self.local = threading.local()

    def _conn(self, host, port):
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        if (host, port) not in conns:
            conns[host, port] = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        return conns[host, port]

    def remote(self, host, port, n, headers):
        conn = self._conn(host, port)
        conn.request("GET", f"/chain/{n}", headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{host}:{port} answered {resp.status}: {body[:200]!r}")
        return {"to": "http", "sent": headers, "status": resp.status, "reply": json.loads(body)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    chain = None  # set in main
    fail = slow = ()  # request numbers, set in main

    def log_message(self, fmt, *args):
        pass  # stdout is our control channel

    def _send(self, code, payload):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 2 or parts[0] != "chain" or not parts[1].isdigit():
            return self._send(404, {"error": "not found"})
        n, pairs = int(parts[1]), list(self.headers.items())
        if n in self.slow:
            time.sleep(SLOW_SECONDS)
        try:
            if self.chain.propagate == "zipkin":
                with self.chain.zipkin.server(NAME, pairs):
                    payload = self.chain.run(n, pairs)
            else:
                payload = self.chain.run(n, pairs)
        except Exception as e:  # the caller sees it; the test decides
            return self._send(502, {"error": f"{type(e).__name__}: {e}"})
        return self._send(500 if n in self.fail else 200, payload)


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    args = service_args(extra=(("--fail", {"type": int, "action": "append", "default": []}),
                               ("--slow", {"type": int, "action": "append", "default": []})))
    set_comm(args.comm)
    Handler.fail, Handler.slow = frozenset(args.fail), frozenset(args.slow)
    srv = Server((args.host, args.port), Handler)
    port = srv.server_address[1]
    zipkin = Zipkin(args.comm, args.host, port, args.zipkin_file) if args.zipkin_file else None
    Handler.chain = HttpChain(args.comm, args.propagate, args.call, zipkin)
    return serve_http(srv)


if __name__ == "__main__":
    sys.exit(main())
