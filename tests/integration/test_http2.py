"""Cleartext HTTP/2 with Debian's peers: nghttpd and h2o (servers), nghttp and h2load (clients).

One span per stream, named and tagged as HTTP/1 spans are. nghttp and h2load
never say which local port they used, so the client end of a connection is
taken from the spans themselves: all of one connection's spans must agree on
it, and where both sides are traced, the CLIENT spans' local port must be the
SERVER spans' remote port.
"""
from itlib.h2 import h2load, nghttp
from itlib.procs import comm_of, now_us
from itlib.rows import by_connection, check_rows, describe, http_row

LO = "127.0.0.1"

# (path, status) on nghttpd's tree; nghttp sends them all at once, multiplexed.
GETS = [("/a.txt?lang=en", 200), ("/items/42", 200), ("/missing", 404), ("/items/42?again=1", 200)]


def urls(srv, paths):
    return [srv.url(p) for p, *_ in paths]


def client_port(spans, kind="SERVER"):
    """The one client port all of these spans of kind name; fails if they name several."""
    key = "remoteEndpoint" if kind == "SERVER" else "localEndpoint"
    ports = {s[key]["port"] for s in spans if s["kind"] == kind}
    assert len(ports) == 1, f"{kind} spans of one connection name client ports {sorted(ports)}: {spans}"
    return ports.pop()


def expected(kind, exchanges, comm, pid, srv, port):
    return [http_row(kind, m, p, st, comm, pid, (srv.host, srv.port), (srv.host, port))
            for m, p, st in exchanges]


def test_harness_h2_peers(nghttpd, h2o):
    """Without sockspan: the servers answer as the tests below expect, on one connection each."""
    n = nghttpd()
    assert comm_of(n.pid) == "nghttpd"
    _, got = nghttp(*urls(n, GETS))
    assert got == [("GET", p.split("?")[0], st) for p, st in GETS]
    _, got = nghttp(n.url("/a.txt"), n.url("/nope"), opts=["-d", "/etc/hostname"])
    assert got == [("POST", "/a.txt", 200), ("POST", "/nope", 200)]  # --echo-upload: any path
    _, got = nghttp(n.url("/big.bin"), n.url("/echo/1"), opts=["-d", n.prefix / "html" / "big.bin"])
    assert got == [("POST", "/big.bin", 200), ("POST", "/echo/1", 200)]
    h2load(n.url("/big.bin"), 20, streams=5)
    h = h2o()
    assert comm_of(h.pid) == "h2o"
    _, got = nghttp(h.url("/a.txt"), h.url("/fail/7?x=1"), h.url("/missing"), opts=["-u"])
    assert got == [("GET", "/a.txt", 200), ("GET", "/fail/7", 503), ("GET", "/missing", 404)]


def test_nghttp_streams_traced_by_server_pid(sockspan, nghttpd):
    """Two nghttp connections: four GETs multiplexed, then two POSTs whose bodies are echoed."""
    srv = nghttpd()
    with sockspan("-p", srv.pid) as ss:
        t0 = now_us()
        _, gets = nghttp(*urls(srv, GETS))
        _, posts = nghttp(srv.url("/a.txt"), srv.url("/items/7"), opts=["-d", "/etc/services"])
        t1 = now_us()
    assert gets == [("GET", p.split("?")[0], st) for p, st in GETS]
    assert posts == [("POST", "/a.txt", 200), ("POST", "/items/7", 200)]
    conns = by_connection(ss.spans)
    assert len(conns) == 2, f"expected the spans of 2 connections:\n{describe(ss.spans)}"
    for spans, exchanges in zip(conns, ([("GET", p, st) for p, st in GETS], posts)):
        port = client_port(spans)
        check_rows(spans, expected("SERVER", exchanges, "nghttpd", srv.pid, srv, port), (t0, t1))


def test_bodies_larger_than_the_capture(sockspan, nghttpd, tmp_path):
    """100 kB bodies both ways: every write or read of them is cut at --max-payload, so the
    capture misses bytes of DATA frames, and the small requests on the same connections must
    still get their spans."""
    srv = nghttpd()
    upload = tmp_path / "upload.bin"
    upload.write_bytes(bytes(range(256)) * 400)
    with sockspan("-p", srv.pid) as ss:
        t0 = now_us()
        _, gets = nghttp(srv.url("/big.bin"), srv.url("/a.txt"), srv.url("/big.bin?2"), srv.url("/items/42"))
        _, posts = nghttp(srv.url("/echo/1"), srv.url("/echo/2"), opts=["-d", upload])
        t1 = now_us()
    want = [[("GET", "/big.bin", 200), ("GET", "/a.txt", 200), ("GET", "/big.bin?2", 200),
             ("GET", "/items/42", 200)], [("POST", "/echo/1", 200), ("POST", "/echo/2", 200)]]
    assert [gets, posts] == [[(m, p.split("?")[0], st) for m, p, st in w] for w in want]
    conns = by_connection(ss.spans)
    assert len(conns) == 2, f"expected the spans of 2 connections:\n{describe(ss.spans)}"
    for spans, exchanges in zip(conns, want):
        port = client_port(spans)
        check_rows(spans, expected("SERVER", exchanges, "nghttpd", srv.pid, srv, port), (t0, t1))


def test_padding_continuation_and_no_hpack_table_both_sides(sockspan, nghttpd):
    """Padded frames both ways, header blocks of 18 kB split into CONTINUATION frames, and a
    client whose decoder allows no dynamic table (the server's encoder must shrink it to 0).

    The whole node is traced: nghttpd's SERVER spans and nghttp's CLIENT spans.
    --max-payload 65536: nghttp writes each of those header blocks in one writev,
    which must be captured whole (bodies beyond the capture are another test).
    """
    srv = nghttpd(extra=["-b", "255"])
    with sockspan("--max-payload", "65536") as ss:
        t0 = now_us()
        pid, got = nghttp(*urls(srv, GETS), opts=["-b", "64", "--continuation", "-c", "0"])
        t1 = now_us()
    assert [st for *_, st in got] == [st for _, st in GETS]
    mine = [s for s in ss.spans if srv.port in (s["localEndpoint"]["port"], s["remoteEndpoint"]["port"])]
    port = client_port(mine, "SERVER")
    assert client_port(mine, "CLIENT") == port, "the two sides disagree on the connection"
    exchanges = [("GET", p, st) for p, st in GETS]
    check_rows([s for s in mine if s["kind"] == "SERVER"],
               expected("SERVER", exchanges, "nghttpd", srv.pid, srv, port), (t0, t1))
    check_rows([s for s in mine if s["kind"] == "CLIENT"],
               expected("CLIENT", exchanges, "nghttp", pid, srv, port), (t0, t1))


def test_h2load_200_requests_one_connection(sockspan, nghttpd):
    srv = nghttpd()
    with sockspan("-p", srv.pid) as ss:
        t0 = now_us()
        h2load(srv.url("/items/42"), 200, clients=1, streams=10)
        t1 = now_us()
    port = client_port(ss.spans)
    check_rows(ss.spans, expected("SERVER", [("GET", "/items/42", 200)] * 200, "nghttpd", srv.pid, srv, port),
               (t0, t1))


def test_h2c_upgrade_from_http1(sockspan, h2o):
    """nghttp -u: the first request goes as HTTP/1.1 with "Upgrade: h2c"; after the 101 its
    response comes on stream 1 as HTTP/2, and the other requests are HTTP/2 streams."""
    srv = h2o()
    exchanges = [("GET", "/a.txt?via=upgrade", 200), ("GET", "/fail/7", 503), ("GET", "/missing", 404),
                 ("GET", "/items/42", 200)]
    with sockspan("-p", srv.pid) as ss:
        t0 = now_us()
        _, got = nghttp(*urls(srv, [(p,) for _, p, _ in exchanges]), opts=["-u"])
        t1 = now_us()
    assert got == [(m, p.split("?")[0], st) for m, p, st in exchanges]
    check_rows(ss.spans, expected("SERVER", exchanges, "h2o", srv.pid, srv, client_port(ss.spans)), (t0, t1))
    upgraded = min(ss.spans, key=lambda s: s["timestamp"])
    assert upgraded["tags"]["http.path"] == "/a.txt", "the upgraded request does not come first"
