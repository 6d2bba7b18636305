"""gRPC (python3-grpcio, cleartext HTTP/2): exact spans on the server side and the client side.

The server (it-grpcd) and the client (it-grpc-client) are separate processes
with their own pids; the client holds one channel, so one TCP connection,
whose local port is read from /proc. Messages are raw bytes (no protoc).
A gRPC span's tags: rpc.system, rpc.service, rpc.method, grpc.status_code,
grpc.message (when the server sent a non-empty one), error (the status name,
or "RST_STREAM <code>" for a reset call), message counts and bytes of both
directions (5-byte prefixes excluded), process.pid.
"""
import re

from itlib.grpc_apps import GRPC_CLIENT_COMM, GRPC_SERVER_COMM, call
from itlib.netstat import established
from itlib.procs import comm_of, log, now_us
from itlib.rows import check_rows, grpc_row

# Larger than --max-payload (16 KiB): the capture misses bytes inside DATA frames.
BIG = "0123456789abcdef" * 6250
# Percent-encoded on the wire (RFC 3986 style, grpc PROTOCOL-HTTP2.md): the tag holds it decoded.
MESSAGE = "no such item: café 100%"


def size(text):
    return len(text.encode())


def case(c, code, details="", responses=(), reset=None):
    """One call, what the client must get, and the span both sides must report.

    The span's grpc.message is details when non-empty and from the server (a
    reset call's are the client's own); the counts follow from the call's
    requests and the responses.
    """
    server_said = not reset
    return {"call": c, "result": {"code": code, "details": details, "responses": list(responses)},
            "span": {"code": code if server_said else None,
                     "message": details if server_said and details else None, "reset": reset,
                     "req": (len(c["requests"]), sum(map(size, c["requests"]))),
                     "resp": (len(responses), sum(map(size, responses)))}}


# One channel, one call after another: every kind of call and of ending.
SEQUENTIAL = [
    case(call("unary", "Say", "hi"), 0, responses=["hi"]),
    # Trailers-Only answers (no response message, grpc-status in the only header block).
    case(call("unary", "Fail", f"5 {MESSAGE}"), 5, MESSAGE),
    case(call("unary", "Fail", "7"), 7),  # a status without a message: no grpc.message tag
    case(call("unary", "Nope", "x"), 12, "Method not found!"),  # grpcio's own UNIMPLEMENTED
    case(call("server_stream", "Count", "3"), 0, responses=["0", "1", "2"]),
    # Messages, then a non-OK status in the trailers.
    case(call("server_stream", "Count", "2 9 stopped"), 9, "stopped", responses=["0", "1"]),
    case(call("client_stream", "Collect", "a", "bb", "ccc"), 0, responses=["a,bb,ccc"]),
    case(call("bidi", "Chat", "x", "yy", "zzz"), 0, responses=["x", "yy", "zzz"]),
    # Cancelled by the client after the response headers: RST_STREAM CANCEL, no status.
    case(call("cancel", "Hang", "x"), 1, "Locally cancelled by application!", reset="CANCEL"),
    case(call("unary", "Say", "after the reset"), 0, responses=["after the reset"]),
]


def rows(kind, cases, pid, server, client):
    comm = GRPC_SERVER_COMM if kind == "SERVER" else GRPC_CLIENT_COMM
    return [grpc_row(kind, c["call"]["method"], pid=pid, service=comm, server=server, client=client,
                     **c["span"]) for c in cases]


def connect(cli, srv, **kw):
    """Open the client's channel; returns the (host, port) of its one connection's local end."""
    cli.connect(srv.host, srv.port, **kw)
    [(local, _)] = established(cli.pid, srv.port)
    return local


def run(cli, cases, concurrent=False):
    results = cli.calls([c["call"] for c in cases], concurrent=concurrent)
    assert results == [c["result"] for c in cases]


def check_both_sides(spans, cases, srv, cli, local, window, sequential=True):
    server = (srv.host, srv.port)
    check_rows([s for s in spans if s["kind"] == "SERVER"], rows("SERVER", cases, srv.pid, server, local),
               window, sequential, grpc=True)
    check_rows([s for s in spans if s["kind"] == "CLIENT"], rows("CLIENT", cases, cli.pid, server, local),
               window, sequential, grpc=True)
    assert len(spans) == 2 * len(cases), f"unexpected extra spans: {spans}"


def test_harness_grpc_apps(grpc_server, grpc_client):
    """Without sockspan: every call kind answers as planned, over one connection, from named processes."""
    srv, cli = grpc_server(), grpc_client()
    assert (comm_of(srv.pid), comm_of(cli.pid)) == (GRPC_SERVER_COMM, GRPC_CLIENT_COMM)
    connect(cli, srv)
    run(cli, SEQUENTIAL)
    run(cli, [case(call("unary", "Say", str(i)), 0, responses=[str(i)]) for i in range(100)], True)
    assert len(established(cli.pid, srv.port)) == 1


def test_call_kinds_both_sides(sockspan, grpc_server, grpc_client):
    srv, cli = grpc_server(), grpc_client()
    with sockspan("-p", srv.pid, "-p", cli.pid) as ss:
        t0 = now_us()
        local = connect(cli, srv)
        run(cli, SEQUENTIAL)
        t1 = now_us()
    check_both_sides(ss.spans, SEQUENTIAL, srv, cli, local, (t0, t1))


LARGE = [
    case(call("unary", "Say", "small"), 0, responses=["small"]),
    case(call("unary", "Say", BIG), 0, responses=[BIG]),
    case(call("client_stream", "Collect", BIG, "tail"), 0, responses=[f"{BIG},tail"]),
    case(call("unary", "Say", "after"), 0, responses=["after"]),
]


def test_messages_larger_than_the_capture(sockspan, grpc_server, grpc_client):
    """100 kB messages: each write of them is cut at --max-payload, so bytes inside DATA frames
    are never seen. Those calls keep exact counts (the lengths are in the message prefixes),
    and the calls after them on the same connection still get their spans."""
    srv, cli = grpc_server(), grpc_client()
    with sockspan("-p", srv.pid, "-p", cli.pid) as ss:
        t0 = now_us()
        local = connect(cli, srv)
        run(cli, LARGE)
        t1 = now_us()
    check_both_sides(ss.spans, LARGE, srv, cli, local, (t0, t1))


def concurrent_cases(n):
    """n unary calls: mostly OK, every 10th NOT_FOUND with a message, every 7th INVALID_ARGUMENT without."""
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append(case(call("unary", "Fail", f"5 missing {i}"), 5, f"missing {i}"))
        elif i % 7 == 6:
            out.append(case(call("unary", "Fail", "3"), 3))
        else:
            out.append(case(call("unary", "Say", f"call {i}"), 0, responses=[f"call {i}"]))
    return out


def test_100_concurrent_calls_on_one_channel(sockspan, grpc_server, grpc_client):
    """100 calls started before any is awaited: their streams interleave on one connection."""
    cases = concurrent_cases(100)
    srv, cli = grpc_server(), grpc_client()
    with sockspan("-p", srv.pid, "-p", cli.pid) as ss:
        t0 = now_us()
        local = connect(cli, srv)
        run(cli, cases, concurrent=True)
        assert len(established(cli.pid, srv.port)) == 1, "the channel opened a second connection"
        t1 = now_us()
    check_both_sides(ss.spans, cases, srv, cli, local, (t0, t1), sequential=False)
    # The point of the test: the server had calls open at the same time on the connection.
    spans = sorted((s["timestamp"], s["timestamp"] + s["duration"])
                   for s in ss.spans if s["kind"] == "SERVER")
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), "no calls overlapped: nothing multiplexed"


AFTER_ATTACH = [
    case(call("unary", "Say", "warm"), 0, responses=["warm"]),
    case(call("unary", "Fail", "5 gone"), 5, "gone"),
    case(call("server_stream", "Count", "2"), 0, responses=["0", "1"]),
    case(call("bidi", "Chat", "p", "q"), 0, responses=["p", "q"]),
]


def test_channel_older_than_sockspan_without_hpack_table(sockspan, grpc_server, grpc_client):
    """A connection already in use when sockspan starts, both decoders refusing a dynamic table.

    With SETTINGS_HEADER_TABLE_SIZE 0 each way, every header field is a
    static-table reference or a literal: nothing of the HPACK state predates
    the attach, so every later call is recoverable and its span exact (the
    warm-up call before the attach has none).
    """
    srv, cli = grpc_server(hpack_table=0), grpc_client()
    local = connect(cli, srv, hpack_table=0)
    run(cli, AFTER_ATTACH[:1])
    with sockspan("-p", srv.pid, "-p", cli.pid) as ss:
        t0 = now_us()
        run(cli, AFTER_ATTACH)
        t1 = now_us()
    assert established(cli.pid, srv.port) == [(local, (srv.host, srv.port))], "warm connection not reused"
    check_both_sides(ss.spans, AFTER_ATTACH, srv, cli, local, (t0, t1))


EXIT_H2 = re.compile(r"h2: (\d+) frame errors, (\d+) hpack errors, (\d+) streams unspanned")


def test_channel_older_than_sockspan_with_hpack_table(sockspan, grpc_server, grpc_client):
    """The same attach with grpcio's default 4 KiB tables: every header block of a later call
    refers to entries inserted before the attach (content-type, grpc-status...), which no one
    can know. sockspan must emit nothing rather than made-up spans, and say so in its counters:
    each call's 3 header blocks (request, response headers, trailers; Trailers-Only answers
    have 2) undecodable on each side, each call's stream ended without a span on each side.
    """
    srv, cli = grpc_server(), grpc_client()
    local = connect(cli, srv)
    run(cli, AFTER_ATTACH)
    with sockspan("-p", srv.pid, "-p", cli.pid) as ss:
        run(cli, AFTER_ATTACH)
    assert established(cli.pid, srv.port) == [(local, (srv.host, srv.port))], "warm connection not reused"
    assert ss.spans == []
    blocks = sum(2 if c["result"]["code"] and not c["result"]["responses"] else 3 for c in AFTER_ATTACH)
    m = EXIT_H2.search(ss.stderr())
    assert m, f"no HTTP/2 counters in sockspan's exit report:\n{ss.stderr()}"
    log(f"exit counters: {m.group(0)}")
    assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (0, 2 * blocks, 2 * len(AFTER_ATTACH))
