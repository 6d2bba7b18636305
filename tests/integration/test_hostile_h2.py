"""Hostile HTTP/2 against nghttpd, traced, beside nghttp's good requests: floods of
streams, of HPACK insertions, DATA on streams sockspan does not track, header
fields left half sent. The good requests keep their exact spans, the floods make
none, sockspan's peak RSS stays within RSS at ready + --memory-limit, and the
counters say what was given up. Hostile frames come from this process (untraced,
itlib/h2_raw.py); nghttpd is the only traced process.
"""
import threading

from itlib.h2 import h2load, nghttp
from itlib.h2_raw import DATA, H2Raw, frame, headers, indexed_literal, request_block, table_size_update
from itlib.hostile import Budgeted
from itlib.procs import STEP_TIMEOUT, log, now_us, wait_until
from itlib.rows import by_connection, check_rows, describe, http_row

LO = "127.0.0.1"
# nghttpd lets a connection open 1000 streams and send 1 GiB before any
# WINDOW_UPDATE, so that the floods below reach it (and sockspan) whole.
ROOMY = ["-m", "1000", "-w", "30", "-W", "30"]
GOOD = [("GET", "/a.txt", 200), ("GET", "/items/42", 200), ("GET", "/missing", 404)]
H2 = {"protocol": "http2"}


def good_requests(srv):
    """One nghttp connection of GOOD requests; returns how many ran."""
    _, got = nghttp(*(srv.url(p) for _, p, _ in GOOD))
    assert got == [(m, p, st) for m, p, st in GOOD]
    return 1


def check_good(spans, srv, runs, window):
    """spans: exactly `runs` connections of GOOD, each with its own client port."""
    conns = by_connection(spans)
    assert len(conns) == runs, f"{len(conns)} connections of spans for {runs} nghttp runs"
    for c in conns:
        port = c[0]["remoteEndpoint"]["port"]
        check_rows(c, [http_row("SERVER", m, p, st, "nghttpd", srv.pid, (LO, srv.port), (LO, port))
                       for m, p, st in GOOD], window)


def h2_counters(agent):
    m = agent.scrape()
    return {"frame errors": m["sockspan_parse_errors_total", H2],
            "unspanned": m["sockspan_unmatched_messages_total", H2],
            "untracked": m["sockspan_requests_untracked_total", H2]}


def hostile_ports(conns):
    return {c.local_port() for c in conns}


def not_from(spans, ports):
    return [s for s in spans if s["remoteEndpoint"]["port"] not in ports]


FLOOD_STREAMS = 512
TRACKED = 128  # H2_MAX_STREAMS
DATA_MB = 32


def test_stream_flood_and_data_on_untracked_streams(sockspan, nghttpd):
    """512 requests on one connection, never ended so never answered: sockspan
    tracks 128 and counts the rest; then 32 MiB of DATA on streams it does not
    track, in 16 KiB frames. Good requests on other connections keep their spans."""
    srv = nghttpd(extra=ROOMY)
    with Budgeted(sockspan, "-p", srv.pid) as agent:
        t0 = now_us()
        flood = H2Raw(srv.port)
        flood.send(b"".join(headers(2 * i + 1, request_block(b"/a.txt")) for i in range(FLOOD_STREAMS)))
        runs = good_requests(srv)
        agent.settle("sockspan_requests_untracked_total", H2, FLOOD_STREAMS - TRACKED)
        chunk = b"".join(frame(DATA, 0, 2 * (TRACKED + i) + 1, bytes(16384)) for i in range(64))
        cpu0, events0 = agent.cpu_seconds(), agent.counter("sockspan_kernel_events_total")
        for i in range(DATA_MB):
            flood.send(chunk)
            if i % 8 == 0:
                runs += good_requests(srv)
        wait_until(lambda: agent.counter("sockspan_captured_bytes_total", {"protocol": "http2",
                                                                           "direction": "ingress"}) > DATA_MB << 20,
                   STEP_TIMEOUT, "sockspan to read the DATA")
        log(f"{DATA_MB} MiB of DATA on untracked streams in "
            f"{agent.counter('sockspan_kernel_events_total') - events0:.0f} events: "
            f"sockspan {agent.cpu_seconds() - cpu0:.2f} s of CPU")
        ports = hostile_ports([flood])
        flood.close()
        wait_until(lambda: agent.counter("sockspan_connections") == 0, STEP_TIMEOUT, "nghttpd to close it")
        t1 = now_us()
        # At the close, the 128 tracked streams end without a span.
        assert h2_counters(agent) == {"frame errors": 0, "unspanned": TRACKED, "untracked": FLOOD_STREAMS - TRACKED}
    agent.check_peak()
    assert not [s for s in agent.spans if s["remoteEndpoint"]["port"] in ports]
    check_good(agent.spans, srv, runs, (t0, t1))


HALF_CONNS = 300


def test_header_fields_left_half_sent(sockspan, nghttpd):
    """300 connections each end a HEADERS frame, without END_HEADERS, right after
    a field's length: 65535 bytes announced, none sent. nghttp2 allocates the
    whole field at once, ~64 KiB in sockspan for 3 bytes, 20 MB in all. The
    budget must shed those, not the good connection beside them (h2load, one
    request every 200 ms on one connection), which keeps every span."""
    srv = nghttpd(extra=ROOMY)
    block = request_block(b"/a.txt") + b"\x40" + b"\x05x-pad" + b"\x7f\x80\xff\x03"  # literal, value of 65535
    done = {}
    with Budgeted(sockspan, "-p", srv.pid) as agent:
        t0 = now_us()
        good = threading.Thread(target=lambda: done.update(pid=h2load(srv.url("/a.txt"), 20, streams=1,
                                                                       opts=["--rps", "5"])))
        good.start()
        half = []
        for _ in range(HALF_CONNS):
            c = H2Raw(srv.port)
            c.send(headers(1, block, end_headers=False))
            half.append(c)
        wait_until(lambda: agent.counter("sockspan_connections_shed_total") > 0, STEP_TIMEOUT, "connections shed")
        wait_until(lambda: agent.counter("sockspan_heap_bytes") <= agent.limit, STEP_TIMEOUT, "the heap under budget")
        good.join(STEP_TIMEOUT)
        assert "pid" in done, "h2load did not finish"
        ports = hostile_ports(half)
        for c in half:
            c.close()
        wait_until(lambda: agent.counter("sockspan_connections") == 0, STEP_TIMEOUT, "nghttpd to close them")
        t1 = now_us()
        log(f"shed {agent.counter('sockspan_connections_shed_total'):.0f} of {HALF_CONNS} connections")
    agent.check_peak()
    goods = not_from(agent.spans, ports)
    assert len(by_connection(goods)) == 1 and len(goods) == 20, describe(goods)
    port = goods[0]["remoteEndpoint"]["port"]
    check_rows(goods, [http_row("SERVER", "GET", "/a.txt", 200, "nghttpd", srv.pid, (LO, srv.port), (LO, port))] * 20,
               (t0, t1))


HPACK_CONNS = 60
ENTRIES = 2000  # of 36 HPACK bytes: more than a 64 KiB table holds


def hpack_flood_block(stream):
    """Table size updates (down to nothing, up to 64 KiB), then a request whose
    every other field is a new tiny entry for the table."""
    fields = b"".join(indexed_literal(b"x%03x" % (i % 4096), b"") for i in range(ENTRIES))
    return headers(stream, table_size_update(0) + table_size_update(65536) + request_block(b"/a.txt") + fields)


def test_hpack_table_flood(sockspan, nghttpd):
    """60 connections fill their 64 KiB HPACK tables (nghttpd allows that size)
    with tiny entries, twice each, in requests never answered: ~350 kB of
    nghttp2 state each in sockspan, 21 MB in all, over a 16 MiB budget. The
    costliest connections are shed (counted), the heap comes back under the
    budget, and good requests beside keep their spans."""
    srv = nghttpd(extra=ROOMY + ["-c", "65536"])
    with Budgeted(sockspan, "-p", srv.pid) as agent:
        t0 = now_us()
        runs, flood = 0, []
        for i in range(HPACK_CONNS):
            c = H2Raw(srv.port)
            c.send(hpack_flood_block(1) + hpack_flood_block(3))
            flood.append(c)
            if i % 10 == 0:
                runs += good_requests(srv)
        wait_until(lambda: agent.counter("sockspan_connections_shed_total") > 0, STEP_TIMEOUT, "a connection shed")
        wait_until(lambda: agent.counter("sockspan_heap_bytes") <= agent.limit, STEP_TIMEOUT, "the heap under budget")
        runs += good_requests(srv)
        ports = hostile_ports(flood)
        for c in flood:
            c.close()
        wait_until(lambda: agent.counter("sockspan_connections") == 0, STEP_TIMEOUT, "nghttpd to close them")
        t1 = now_us()
        m = agent.scrape()
        log(f"shed {m['sockspan_connections_shed_total']:.0f} of {HPACK_CONNS} flooding connections")
        assert m["sockspan_parse_errors_total", H2] == 0
    agent.check_peak()
    assert not [s for s in agent.spans if s["remoteEndpoint"]["port"] in ports]
    check_good(agent.spans, srv, runs, (t0, t1))
