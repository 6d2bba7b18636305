"""What the chain apps (chain_http, chain_grpc, chain_async, chain_driver) share: which headers
are trace context, what each --propagate mode forwards, py_zipkin spans written to a file,
and redis-py clients of their own per thread.

Propagation modes (headers = HTTP/1 headers or gRPC metadata, names as received):
    none    nothing
    b3      every received `b3` and `x-b3-*` header, name and value verbatim
    xrid    the received `x-request-id` only
    zipkin  py_zipkin 0.15: a SERVER span from the received B3 headers, a CLIENT span per
            outgoing call with the B3 headers py_zipkin mints for it
            (create_http_headers_for_new_span: a fresh span id whose parent is that CLIENT span)
"""
import argparse
import json
import threading
from urllib.parse import urlsplit

import redis
from py_zipkin import Encoding, Kind
from py_zipkin.zipkin import ZipkinAttrs, create_http_headers_for_new_span, zipkin_span

MODES = ("none", "b3", "xrid", "zipkin")
TIMEOUT = 30  # seconds any downstream call may take; only a hung peer reaches it


def is_trace_header(name):
    name = name.lower()
    return name in ("b3", "x-request-id", "traceparent", "tracestate") or name.startswith("x-b3-")


def trace_headers(pairs):
    """{name: value} of the trace-context headers among (name, value) pairs, names as received."""
    return {k: v for k, v in pairs if is_trace_header(k)}


def forwarded(mode, pairs):
    """The headers a service in mode none|b3|xrid copies from its request onto each call it makes."""
    if mode == "none":
        return {}
    if mode == "b3":
        return {k: v for k, v in pairs if k.lower() == "b3" or k.lower().startswith("x-b3-")}
    if mode == "xrid":
        return {k: v for k, v in pairs if k.lower() == "x-request-id"}
    raise ValueError(f"mode {mode!r} does not copy headers")


def parse_call(url):
    """'http://IP:PORT', 'grpc://IP:PORT' or 'redis://IP:PORT' -> (scheme, host, port)."""
    u = urlsplit(url)
    if u.scheme not in ("http", "grpc", "redis") or not u.port:
        raise ValueError(f"bad --call {url!r}")
    return u.scheme, u.hostname, u.port


class ZipkinFile:
    """py_zipkin transport: every span it reports is appended to path as one JSON line."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, payload):
        spans = json.loads(payload)  # V2_JSON: a JSON list
        with self.lock, open(self.path, "a") as f:
            for s in spans:
                f.write(json.dumps(s) + "\n")


class Zipkin:
    """py_zipkin spans of one process (service name = its comm, endpoint = its address)."""

    def __init__(self, comm, host, port, path):
        self.comm, self.host, self.port = comm, host, port
        self.transport = ZipkinFile(path)

    def server(self, name, pairs):
        """SERVER span continuing the received B3 headers (a new trace when there are none).
        The spans are written when it ends: end it before answering, so a reply means written."""
        h = {k.lower(): v for k, v in pairs}
        attrs = None
        if "x-b3-traceid" in h:
            attrs = ZipkinAttrs(trace_id=h["x-b3-traceid"], span_id=h["x-b3-spanid"],
                                parent_span_id=h.get("x-b3-parentspanid"),
                                flags=h.get("x-b3-flags", "0"), is_sampled=h.get("x-b3-sampled") == "1")
        return zipkin_span(service_name=self.comm, span_name=name, zipkin_attrs=attrs,
                           sample_rate=None if attrs else 100.0, transport_handler=self.transport,
                           kind=Kind.SERVER, encoding=Encoding.V2_JSON, host=self.host,
                           port=self.port, use_128bit_trace_id=True)

    def root_client(self, name):
        """CLIENT span starting a new sampled trace (the driver's)."""
        return zipkin_span(service_name=self.comm, span_name=name, transport_handler=self.transport,
                           sample_rate=100.0, kind=Kind.CLIENT, encoding=Encoding.V2_JSON,
                           host=self.host, port=self.port, use_128bit_trace_id=True)

    def client(self, name):
        """CLIENT span inside the current server span (written with it)."""
        return zipkin_span(service_name=self.comm, span_name=name, kind=Kind.CLIENT)

    @staticmethod
    def headers(lowercase=False):
        """The B3 headers py_zipkin mints for a call made inside the current span."""
        h = create_http_headers_for_new_span()
        return {k.lower(): v for k, v in h.items()} if lowercase else h


def service_args(modes=MODES, extra=()):
    """The options every chain service takes (--host, --port, --comm, --propagate, --call,
    --zipkin-file when modes has zipkin), plus extra (name, kwargs) ones; parsed and checked."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--comm", required=True)
    ap.add_argument("--propagate", choices=modes, required=True)
    ap.add_argument("--call", action="append", default=[])
    if "zipkin" in modes:
        ap.add_argument("--zipkin-file")
    for name, kwargs in extra:
        ap.add_argument(name, **kwargs)
    args = ap.parse_args()
    if "zipkin" in modes and (args.propagate == "zipkin") != bool(args.zipkin_file):
        ap.error("--zipkin-file goes with --propagate zipkin, and only with it")
    for c in args.call:
        try:
            parse_call(c)
        except ValueError as e:
            ap.error(str(e))
    return args


class Chain:
    """The calls one request makes, in order: the service's own protocol (a subclass's
    remote(host, port, n, headers), named `name` for py_zipkin) or Redis GET key:<n>."""

    scheme = name = None
    lowercase = False  # gRPC metadata keys are lowercase

    def __init__(self, comm, propagate, calls, zipkin):
        self.comm, self.propagate, self.zipkin = comm, propagate, zipkin
        self.calls = [parse_call(c) for c in calls]
        self.redis = {(h, p): RedisCalls(h, p) for s, h, p in self.calls if s == "redis"}

    def remote(self, host, port, n, headers):
        raise NotImplementedError

    def _call(self, scheme, host, port, n, pairs):
        if scheme == "redis":
            key = f"key:{n}"
            return {"to": "redis", "key": key, "value": self.redis[host, port].get(key)}
        headers = Zipkin.headers(self.lowercase) if self.propagate == "zipkin" else forwarded(self.propagate, pairs)
        return self.remote(host, port, n, headers)

    def run(self, n, pairs):
        out = []
        for scheme, host, port in self.calls:
            if self.propagate == "zipkin":
                with self.zipkin.client(self.name if scheme == self.scheme else "get"):
                    out.append(self._call(scheme, host, port, n, pairs))
            else:
                out.append(self._call(scheme, host, port, n, pairs))
        return {"service": self.comm, "n": n, "received": trace_headers(pairs), "calls": out}


class RedisCalls:
    """GET through a redis-py client (so a connection) of the calling thread's own."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.local = threading.local()

    def get(self, key):
        if not hasattr(self.local, "client"):
            self.local.client = redis.Redis(host=self.host, port=self.port, socket_timeout=TIMEOUT,
                                            single_connection_client=True)
        value = self.local.client.get(key)
        return None if value is None else value.decode()
