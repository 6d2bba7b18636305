"""A Zipkin-compatible test collector, run as its own process and driven over stdin.

    zipkin_collector.py [--host 127.0.0.1] [--tls CERT KEY]

Serves POST /api/v2/spans like Zipkin: a JSON list of spans
(application/json) or a proto3 ListOfSpans (application/x-protobuf), with or
without Content-Encoding: gzip. Every span is validated: JSON ones against the
Span schema of tests/spec/zipkin2-api.yaml, proto3 ones against
user/export/zipkin.proto (decoded with a module generated at start-up by
`protoc --python_out`, no unknown fields, id sizes, enum values, address
sizes) and then, converted to the JSON model, against the same schema. A body
that breaks any rule is answered 400 and recorded with its errors.

Prints "listening <port>", then reads one JSON command per stdin line and
answers each with one JSON line:
    {"op": "respond", "status": 503}  answer every POST with that status (spans
                                      not kept); 202 (the default) keeps them
    {"op": "delay", "seconds": S}     keep the spans, answer 202 after S seconds
    {"op": "hang"}                    hold every POST unanswered (spans not kept)
                                      until the mode changes or the collector goes down
    {"op": "down"}                    stop listening and close every connection
    {"op": "up"}                      listen again on the same port
    {"op": "received"}                -> {"requests": [...], "spans": [...]}
    {"op": "exit"}
A request record: status answered, encoding, gzip, content_type, b3 (the
header's value), user_agent, extra (headers starting with X-), wire_bytes
(the body as received), head_bytes (request line and headers, as curl writes
them: "Name: value"), nspans, errors. Spans are the kept ones, in arrival order, in the JSON model.
"""
import argparse
import gzip
import importlib
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from itlib.zipkin import PROTO, schema_errors  # noqa: E402

# Longest a POST is held in "hang" mode: far beyond any client timeout.
HANG_LIMIT_S = 600


def load_proto():
    """zipkin_pb2 generated from the agent's zipkin.proto into a temporary directory."""
    out = Path(tempfile.mkdtemp(prefix="zipkin-pb2-"))
    subprocess.run(["protoc", f"--python_out={out}", f"-I{PROTO.parent}", str(PROTO)], check=True)
    sys.path.insert(0, str(out))
    return importlib.import_module("zipkin_pb2")


pb = load_proto()
KINDS = {v.number: v.name for v in pb.Span.Kind.DESCRIPTOR.values}


def unknown_field_errors(msg, where):
    errs = [f"{where}: unknown fields"] if len(msg.UnknownFields()) else []
    for fd, value in msg.ListFields():
        if fd.message_type is None or fd.message_type.GetOptions().map_entry:
            continue
        items = value if fd.label == fd.LABEL_REPEATED else [value]
        for i, m in enumerate(items):
            errs += unknown_field_errors(m, f"{where}.{fd.name}[{i}]")
    return errs


def endpoint_dict(ep, where, errs):
    d = {}
    if ep.service_name:
        d["serviceName"] = ep.service_name
    if ep.ipv4:
        if len(ep.ipv4) != 4:
            errs.append(f"{where}.ipv4 has {len(ep.ipv4)} bytes")
        else:
            d["ipv4"] = socket.inet_ntop(socket.AF_INET, ep.ipv4)
    if ep.ipv6:
        if len(ep.ipv6) != 16:
            errs.append(f"{where}.ipv6 has {len(ep.ipv6)} bytes")
        else:
            d["ipv6"] = socket.inet_ntop(socket.AF_INET6, ep.ipv6)
    if ep.port:
        d["port"] = ep.port
    return d


def span_dict(s, where, errs):
    """A proto3 Span in Zipkin's JSON model (the fields it has, as the v2 JSON would carry them)."""
    if len(s.trace_id) not in (8, 16):
        errs.append(f"{where}.trace_id has {len(s.trace_id)} bytes")
    if len(s.id) != 8:
        errs.append(f"{where}.id has {len(s.id)} bytes")
    if s.parent_id and len(s.parent_id) != 8:
        errs.append(f"{where}.parent_id has {len(s.parent_id)} bytes")
    if s.kind not in KINDS:
        errs.append(f"{where}.kind {s.kind} is not in the enum")
    d = {"traceId": s.trace_id.hex(), "id": s.id.hex()}
    if s.parent_id:
        d["parentId"] = s.parent_id.hex()
    if s.kind:
        d["kind"] = KINDS.get(s.kind, str(s.kind))
    if s.name:
        d["name"] = s.name
    if s.timestamp:
        d["timestamp"] = s.timestamp
    if s.duration:
        d["duration"] = s.duration
    for field, key in (("local_endpoint", "localEndpoint"), ("remote_endpoint", "remoteEndpoint")):
        if s.HasField(field):
            ep = endpoint_dict(getattr(s, field), f"{where}.{field}", errs)
            if ep:
                d[key] = ep
    if s.annotations:
        d["annotations"] = [{"timestamp": a.timestamp, "value": a.value} for a in s.annotations]
    if s.tags:
        d["tags"] = dict(s.tags)
    if s.debug:
        d["debug"] = True
    if s.shared:
        d["shared"] = True
    return d


def decode(body, ctype):
    """(encoding, spans in the JSON model, errors)."""
    errs = []
    if ctype == "application/x-protobuf":
        msg = pb.ListOfSpans()
        try:
            msg.ParseFromString(body)
        except Exception as e:  # the protobuf runtime's DecodeError, or worse
            return "proto3", [], [f"not a ListOfSpans: {e}"]
        errs += unknown_field_errors(msg, "ListOfSpans")
        spans = [span_dict(s, f"spans[{i}]", errs) for i, s in enumerate(msg.spans)]
        enc = "proto3"
    elif ctype == "application/json":
        try:
            spans = json.loads(body)
        except ValueError as e:
            return "json", [], [f"not JSON: {e}"]
        if not isinstance(spans, list) or not all(isinstance(s, dict) for s in spans):
            return "json", [], ["not a list of span objects"]
        enc = "json"
    else:
        return None, [], [f"unsupported Content-Type {ctype!r}"]
    for i, s in enumerate(spans):
        errs += [f"spans[{i}]: {e}" for e in schema_errors(s)]
    return enc, spans, errs


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = ("respond", 202)
        self.changed = threading.Event()  # set to release hanging POSTs
        self.requests = []
        self.spans = []
        self.conns = set()


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.conns.add(self.connection)

    def finish(self):
        with STATE.lock:
            STATE.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def answer(self, status, text=b""):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with STATE.lock:
            mode = STATE.mode
            released = STATE.changed
        if mode[0] == "hang":
            released.wait(HANG_LIMIT_S)
            self.close_connection = True
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        gz = (self.headers.get("Content-Encoding") or "").lower() == "gzip"
        head = len(self.requestline) + 2 + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
        rec = {"path": self.path, "content_type": ctype, "gzip": gz, "b3": self.headers.get("b3"),
               "user_agent": self.headers.get("User-Agent"), "wire_bytes": len(raw), "head_bytes": head,
               "extra": {k: v for k, v in self.headers.items() if k.lower().startswith("x-")}}
        errs = [] if self.path == "/api/v2/spans" else [f"POST to {self.path}"]
        body = raw
        if gz:
            try:
                body = gzip.decompress(raw)
            except (OSError, EOFError) as e:
                errs.append(f"bad gzip: {e}")
        enc, spans, more = decode(body, ctype) if not errs else (None, [], [])
        errs += more
        status = 400 if errs else (202 if mode[0] == "delay" else mode[1])
        rec.update(encoding=enc, nspans=len(spans), errors=errs, status=status)
        if mode[0] == "delay" and not errs:
            released.wait(mode[1])
        with STATE.lock:
            STATE.requests.append(rec)
            if 200 <= status < 300:
                STATE.spans.extend(spans)
        self.answer(status, "\n".join(errs).encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host, port, tls):
    srv = Server((host, port), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def set_mode(mode):
    with STATE.lock:
        STATE.mode = mode
        STATE.changed.set()
        STATE.changed = threading.Event()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    srv = serve(args.host, 0, args.tls)
    port = srv.server_address[1]
    print(f"listening {port}", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        reply = {}
        if op == "respond":
            set_mode(("respond", int(cmd["status"])))
        elif op == "delay":
            set_mode(("delay", float(cmd["seconds"])))
        elif op == "hang":
            set_mode(("hang", None))
        elif op == "down":
            if srv:
                srv.shutdown()
                srv.server_close()
                srv = None
            set_mode(STATE.mode)  # releases hanging POSTs
            with STATE.lock:
                conns = list(STATE.conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        elif op == "up":
            if not srv:
                srv = serve(args.host, port, args.tls)
        elif op == "received":
            with STATE.lock:
                reply = {"requests": list(STATE.requests), "spans": list(STATE.spans)}
        elif op == "exit":
            print(json.dumps(reply), flush=True)
            break
        else:
            reply = {"error": f"unknown op {op!r}"}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
