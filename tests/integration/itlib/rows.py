"""Exact spans with every tag: for HTTP/2 and gRPC, whose tags differ from call to call.

A span is reduced to a TagRow (kind, name, serviceName, endpoints, the whole
tags dict). Expected rows are built from what the test did; comparison is
exact, in order (calls one after another) or as a multiset (concurrent calls).
Timing is checked as in spans.check: only against the test's own window.
"""
import re
from collections import Counter, namedtuple

from .spans import CLOCK_SLACK_US, ROUNDING_US, addr
from .zipkin import HEX16, HEX32, contract_errors

TagRow = namedtuple("TagRow", "kind name service local remote tags")

GRPC_STATUS_NAMES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
]
GRPC_NAME = re.compile(r"/[^/\s]+/[^/\s]+")


def _addr(ep):
    if "ipv6" in ep:
        return f"[{ep['ipv6']}]:{ep.get('port')}"
    return f"{ep.get('ipv4')}:{ep.get('port')}"


def row_of(span):
    return TagRow(span.get("kind"), span.get("name"), span.get("localEndpoint", {}).get("serviceName"),
                  _addr(span.get("localEndpoint", {})), _addr(span.get("remoteEndpoint", {})),
                  dict(sorted(span.get("tags", {}).items())))


def endpoints(kind, server, client):
    """(local, remote) of a span of that kind for a connection between server and client (host, port)."""
    return (addr(*server), addr(*client)) if kind == "SERVER" else (addr(*client), addr(*server))


def http_row(kind, method, path, status, service, pid, server, client):
    """An HTTP/2 span without gRPC: the tags of an HTTP/1 span, name from the path template."""
    tags = {"http.method": method, "http.path": path.split("?", 1)[0], "http.status_code": str(status),
            "process.pid": str(pid)}
    if status >= 500:
        tags["error"] = str(status)
    segs = path.split("?", 1)[0].split("/")
    name = f"{method.lower()} " + "/".join("{id}" if s.isdigit() else s for s in segs)
    return TagRow(kind, name, service, *endpoints(kind, server, client), dict(sorted(tags.items())))


def grpc_row(kind, full_method, code, service, pid, server, client, message=None,
             req=(1, 0), resp=(1, 0), reset=None):
    """A gRPC span.

    code: grpc-status (None: the call ended before any). message: grpc-message,
    only when the server sent a non-empty one. req/resp: (messages, bytes
    without the 5-byte prefixes) of each direction. reset: the RST_STREAM
    error name when the call was reset.
    """
    svc, meth = full_method.strip("/").split("/")
    tags = {"rpc.system": "grpc", "rpc.service": svc, "rpc.method": meth, "process.pid": str(pid),
            "rpc.request.messages": str(req[0]), "rpc.request.bytes": str(req[1]),
            "rpc.response.messages": str(resp[0]), "rpc.response.bytes": str(resp[1])}
    if code is not None:
        tags["grpc.status_code"] = str(code)
    if message:
        tags["grpc.message"] = message
    if reset:
        tags["error"] = f"RST_STREAM {reset}"
    elif code:
        tags["error"] = GRPC_STATUS_NAMES[code]
    return TagRow(kind, full_method, service, *endpoints(kind, server, client), dict(sorted(tags.items())))


def structure_errors(span):
    """What sockspan promises of every span whatever the protocol: ids, kind, times, endpoints, pid."""
    errs = []
    if not HEX32.fullmatch(str(span.get("traceId"))):
        errs.append(f"traceId is not 32 lowercase hex: {span.get('traceId')!r}")
    if not HEX16.fullmatch(str(span.get("id"))):
        errs.append(f"id is not 16 lowercase hex: {span.get('id')!r}")
    if span.get("kind") not in ("SERVER", "CLIENT"):
        errs.append(f"kind is not SERVER/CLIENT: {span.get('kind')!r}")
    ts, dur = span.get("timestamp"), span.get("duration")
    if not isinstance(ts, int) or ts <= 0:
        errs.append(f"timestamp missing or not positive: {ts!r}")
    if not isinstance(dur, int) or dur < 1:
        errs.append(f"duration missing or < 1: {dur!r}")
    for where in ("localEndpoint", "remoteEndpoint"):
        ep = span.get(where)
        if (not isinstance(ep, dict) or not isinstance(ep.get("port"), int)
                or ("ipv4" in ep) == ("ipv6" in ep)):
            errs.append(f"{where} invalid: {ep!r}")
    if not span.get("localEndpoint", {}).get("serviceName"):
        errs.append("localEndpoint.serviceName missing")
    tags = span.get("tags", {})
    if not str(tags.get("process.pid", "")).isdigit():
        errs.append(f"process.pid not a pid: {tags.get('process.pid')!r}")
    return errs


def grpc_errors(span):
    """structure_errors plus the gRPC span contract."""
    errs = structure_errors(span)
    tags = span.get("tags", {})
    if not GRPC_NAME.fullmatch(str(span.get("name"))):
        errs.append(f"name is not a full method /package.Service/Method: {span.get('name')!r}")
    if tags.get("rpc.system") != "grpc":
        errs.append(f"rpc.system is not grpc: {tags.get('rpc.system')!r}")
    return errs


def _fmt(row):
    return f"{row.kind} {row.name} {row.service} {row.local}->{row.remote} {row.tags}"


def describe(spans):
    """One readable line per span, for assertion messages."""
    return "\n".join(f"  {_fmt(row_of(s))}" for s in spans)


def _listing(got, want):
    """Both lists, one row a line, so a long mismatch can be read."""
    lines = [f"got {len(got)} spans, want {len(want)}:"]
    for i in range(max(len(got), len(want))):
        g = _fmt(got[i]) if i < len(got) else "-"
        w = _fmt(want[i]) if i < len(want) else "-"
        lines += [f"  [{i}] {'==' if g == w else '!='}", f"    got:  {g}", f"    want: {w}"]
    return "\n".join(lines)


def check_rows(spans, expected, window, sequential=False, grpc=False):
    """Assert spans are exactly expected (TagRows) and their times lie in window (t0, t1) epoch µs.

    sequential: the exchanges ran one after another on one connection, so the
    rows must match in that order (spans sorted by timestamp), each span must
    end before the next starts and the output order must already be that
    order. Otherwise rows are compared as multisets.
    """
    errors = [(s, grpc_errors(s) if grpc else contract_errors(s) + structure_errors(s)) for s in spans]
    errors = [f"{s}\n    -> {e}" for s, e in errors if e]
    assert not errors, "spans breaking sockspan's span contract:\n" + "\n".join(errors[:5])

    ordered = sorted(enumerate(spans), key=lambda p: (p[1]["timestamp"], p[0]))
    rows = [row_of(s) for _, s in ordered]
    if sequential:
        assert rows == expected, _listing(rows, expected)
    else:
        hashable = lambda rs: Counter(r._replace(tags=tuple(r.tags.items())) for r in rs)  # noqa: E731
        got, want = hashable(rows), hashable(expected)
        assert got == want, (f"missing: {list((want - got).elements())[:10]}\n"
                             f"unexpected: {list((got - want).elements())[:10]}")

    t0, t1 = window
    for _, s in ordered:
        start, end = s["timestamp"], s["timestamp"] + s["duration"]
        assert t0 - CLOCK_SLACK_US <= start and end <= t1 + CLOCK_SLACK_US, (
            f"span [{start}, {end}] µs lies outside the test's window [{t0}, {t1}]: {s}")

    ids = [(s["traceId"], s["id"]) for s in spans]
    assert len(set(ids)) == len(ids), f"duplicate (traceId, id) among spans: {ids}"

    if sequential:
        assert [i for i, _ in ordered] == sorted(i for i, _ in ordered), (
            "output order differs from the order of the exchanges on the connection")
        for (_, a), (_, b) in zip(ordered, ordered[1:]):
            assert a["timestamp"] + a["duration"] <= b["timestamp"] + ROUNDING_US, (
                f"span ends after the next exchange on the same connection began:\n{a}\n{b}")


def by_connection(spans):
    """Spans grouped by connection (the client's port), connections in the order they began."""
    conns = {}
    for s in spans:
        port = s["remoteEndpoint" if s["kind"] == "SERVER" else "localEndpoint"]["port"]
        conns.setdefault(port, []).append(s)
    return sorted(conns.values(), key=lambda spans: min(s["timestamp"] for s in spans))
