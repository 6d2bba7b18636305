"""Comparing emitted spans with the exact spans a test expects.

A span is reduced to a Row: every field a test pins down, in a form whose
diff pytest prints readably. Timing is checked apart from equality, only
against the test's own wall-clock window and the order of exchanges.
"""
from collections import namedtuple

from .zipkin import contract_errors

Row = namedtuple("Row", "kind name method path status error service pid local remote")

# Allowance between the agent's kernel clock -> epoch conversion and the test's
# time.time(). Large enough for conversion jitter, far too small to hide a
# unit error (ns/ms), a boot-relative timestamp or a span from outside the window.
CLOCK_SLACK_US = 50_000
# Rounding of timestamp and duration to whole microseconds, each may add one.
ROUNDING_US = 2


def _addr(ep):
    if not isinstance(ep, dict):
        return None
    if "ipv6" in ep:
        return f"[{ep['ipv6']}]:{ep.get('port')}"
    return f"{ep.get('ipv4')}:{ep.get('port')}"


def row_of(span):
    tags = span.get("tags", {})
    return Row(
        kind=span.get("kind"),
        name=span.get("name"),
        method=tags.get("http.method"),
        path=tags.get("http.path"),
        status=tags.get("http.status_code"),
        error=tags.get("error"),
        service=span.get("localEndpoint", {}).get("serviceName"),
        pid=tags.get("process.pid"),
        local=_addr(span.get("localEndpoint")),
        remote=_addr(span.get("remoteEndpoint")),
    )


def addr(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def server_row(name, path, status, service, pid, server, client, method="GET"):
    """Expected SERVER span: local = (host, listening port), remote = (host, client's ephemeral port)."""
    return Row("SERVER", name, method, path, str(status), str(status) if status >= 500 else None,
               service, str(pid), addr(*server), addr(*client))


def client_row(name, path, status, service, pid, server, client, method="GET"):
    """Expected CLIENT span: local = client's ephemeral port, remote = the server's port."""
    return Row("CLIENT", name, method, path, str(status), str(status) if status >= 500 else None,
               service, str(pid), addr(*client), addr(*server))


def for_port(spans, port):
    """Spans of exchanges with the server listening on port (SERVER local side, CLIENT remote side)."""
    out = []
    for s in spans:
        local = s.get("localEndpoint", {}).get("port")
        remote = s.get("remoteEndpoint", {}).get("port")
        if (s.get("kind") == "SERVER" and local == port) or (s.get("kind") == "CLIENT" and remote == port):
            out.append(s)
    return out


def of_kind(spans, kind):
    return [s for s in spans if s.get("kind") == kind]


def check(spans, expected, window, sequential=False):
    """Assert spans are exactly `expected` (Rows, in exchange order) and their times are sane.

    spans: the emitted spans of interest in output order. They are ordered by
    timestamp (ties keep output order) before comparing. window: (t0, t1) epoch
    µs taken before the first and after the last exchange. sequential: the
    exchanges ran one after another on one connection, so each span must end
    before the next starts and the output order must already be that order.
    """
    errors = [(s, contract_errors(s)) for s in spans]
    errors = [f"{s}\n    -> {e}" for s, e in errors if e]
    assert not errors, "spans breaking sockspan's span contract:\n" + "\n".join(errors[:5])

    ordered = sorted(enumerate(spans), key=lambda p: (p[1]["timestamp"], p[0]))
    rows = [row_of(s) for _, s in ordered]
    assert rows == expected

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


def template(path):
    """The span name's path for our test paths: query dropped, all-digit segments -> {id}."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if seg.isdigit() else seg for seg in path.split("/"))


def rows_for(kind, exchanges, service, pid, server, client):
    """Expected Rows for exchanges [(method, path_with_query, status[, body]), ...] seen from one side.

    server/client: (host, port) of the listening socket and of the client socket.
    """
    make = server_row if kind == "SERVER" else client_row
    return [make(f"{m.lower()} {template(p)}", p.split("?", 1)[0], st, service, pid, server, client,
                 method=m)
            for m, p, st, *_ in exchanges]
