"""The agent's own endpoints: /metrics (scraped with prometheus_client's text parser), /healthz, /readyz.

Traffic comes from a raw socket in the test process (untraced: only the
server's pid is), so the exact bytes each direction carried are known.
"""
import select
import socket
import threading

import pytest

from itlib.collector import collector, http_get, scrape  # noqa: F401 (fixture)
from itlib.hostile import read_response, request
from itlib.procs import STEP_TIMEOUT, free_port, wait_until
from itlib.sockspan import run_cli

LO = "127.0.0.1"


def delta(after, before, name, labels=None):
    return after[name, labels or {}] - before[name, labels or {}]


def test_counters_follow_traffic(sockspan, py_server, collector):
    c = collector()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}",
                  "--batch-interval", "0.2") as ss:
        before = scrape(mport)
        sent = received = 0
        with socket.create_connection((LO, py_server.port)) as s:
            for i in range(10):
                req = request(f"/bytes/{i}")
                s.sendall(req)
                sent += len(req)
                received += len(read_response(s))
            wait_until(lambda: scrape(mport)["sockspan_export_spans_total"] == 10, STEP_TIMEOUT,
                       "10 spans exported")
            during = scrape(mport)
            assert during["sockspan_connections"] == 1
        wait_until(lambda: scrape(mport)["sockspan_connections"] == 0, STEP_TIMEOUT, "the close to be seen")
        # A request head the HTTP/1 parser must refuse.
        with socket.create_connection((LO, py_server.port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
            read_response(s)
        wait_until(lambda: delta(scrape(mport), during, "sockspan_parse_errors_total", {"protocol": "http1"}),
                   STEP_TIMEOUT, "the parse error to be counted")
        after = scrape(mport)

    m = during
    # The connection's first bytes arrive before HTTP/1 is recognised: they count as "none".
    in_bytes = sum(delta(m, before, "sockspan_captured_bytes_total", {"protocol": p, "direction": "ingress"})
                   for p in ("http1", "none"))
    assert in_bytes == sent
    assert delta(m, before, "sockspan_captured_bytes_total", {"protocol": "http1", "direction": "egress"}) == received
    assert delta(m, before, "sockspan_captured_events_total", {"protocol": "http1", "direction": "ingress"}) >= 9
    assert delta(m, before, "sockspan_captured_events_total", {"protocol": "http1", "direction": "egress"}) >= 10
    for p in ("http2", "redis"):
        assert delta(m, before, "sockspan_captured_bytes_total", {"protocol": p, "direction": "ingress"}) == 0
    assert delta(m, before, "sockspan_kernel_events_total") >= 20
    assert delta(m, before, "sockspan_connections_opened_total") == 1
    assert delta(m, before, "sockspan_spans_total", {"protocol": "http1", "kind": "SERVER"}) == 10
    assert delta(m, before, "sockspan_spans_total", {"protocol": "http1", "kind": "CLIENT"}) == 0
    assert delta(m, before, "sockspan_parse_errors_total", {"protocol": "http1"}) == 0
    assert m["sockspan_ringbuf_lost_events_total"] == 0
    assert m["sockspan_truncated_payload_bytes_total"] == 0
    assert delta(after, during, "sockspan_parse_errors_total", {"protocol": "http1"}) == 1
    assert delta(after, during, "sockspan_spans_total", {"protocol": "http1", "kind": "SERVER"}) == 0

    # Export: every POST accounted for, by status and in the histogram.
    got = c.received()
    posts = len(got["requests"])
    assert posts >= 1 and all(r["status"] == 202 for r in got["requests"])
    assert m["sockspan_export_requests_total", {"status": "202"}] == posts
    assert m["sockspan_export_batches_total", {"result": "sent"}] == posts
    assert m["sockspan_export_request_duration_seconds_count"] == posts
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.samples.items()
                     if k[0] == "sockspan_export_request_duration_seconds_bucket")
    assert buckets[-1] == (float("inf"), posts)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
    assert m["sockspan_export_request_duration_seconds_sum"] > 0
    wire = sum(r["wire_bytes"] for r in got["requests"])
    assert m["sockspan_export_sent_bytes_total"] == wire + sum(r["head_bytes"] for r in got["requests"])
    assert m["sockspan_export_encoded_bytes_total"] > wire  # gzip made them smaller
    assert m["sockspan_export_queue_spans"] == 0
    assert m["sockspan_export_queue_capacity_spans"] > 0
    assert len(ss.spans) == 10

    # Prometheus conventions, as the parser sees them.
    types = {name: f.type for name, f in m.families.items()}
    assert types["sockspan_spans"] == "counter"  # sockspan_spans_total
    assert types["sockspan_spans_dropped"] == "counter"
    assert types["sockspan_connections"] == "gauge"
    assert types["sockspan_export_queue_spans"] == "gauge"
    assert types["sockspan_export_request_duration_seconds"] == "histogram"
    assert all(n.startswith("sockspan_") for n in types)


def test_spans_of_untraced_clients_stop_waiting_for_a_join(sockspan, py_server, collector):
    """A SERVER span without trace context waits 200 ms for its CLIENT end; once a wait from this
    (untraced) client address ended unjoined, the next requests' spans go out at once."""
    c = collector()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}",
                  "--batch-interval", "0.1"):
        with socket.create_connection((LO, py_server.port)) as s:
            s.sendall(request("/first"))
            read_response(s)
            wait_until(lambda: scrape(mport)["sockspan_export_spans_total"] == 1, STEP_TIMEOUT,
                       "the first span, after its wait")
            assert scrape(mport)["sockspan_join_waits_skipped_total"] == 0
            for i in range(5):
                s.sendall(request(f"/next/{i}"))
                read_response(s)
            wait_until(lambda: scrape(mport)["sockspan_export_spans_total"] == 6, STEP_TIMEOUT, "6 spans")
            # One of them waits again if a second went by since the wait ended (a probe).
            assert scrape(mport)["sockspan_join_waits_skipped_total"] in (4, 5)
    names = sorted(sp["tags"]["http.path"] for sp in c.received()["spans"])
    assert names == ["/first"] + [f"/next/{i}" for i in range(5)]


def test_health_and_readiness(sockspan, py_server, collector):
    """Ready means capturing and, with a collector, that it took the last batch."""
    c = collector()
    c.down()
    mport = free_port()
    # ":PORT": every address.
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f":{mport}",
                  "--batch-interval", "0.2"):
        base = f"http://{LO}:{mport}"
        assert http_get(base + "/healthz") == (200, "ok\n")
        assert http_get(base + "/readyz") == (200, "ready\n")
        assert http_get(base + "/nothing")[0] == 404
        with socket.create_connection((LO, py_server.port)) as s:
            s.sendall(request("/status/200"))
            read_response(s)
        wait_until(lambda: http_get(base + "/readyz")[0] == 503, STEP_TIMEOUT,
                   "/readyz to say the collector is unreachable")
        assert "collector" in http_get(base + "/readyz")[1]
        assert http_get(base + "/healthz") == (200, "ok\n")
        c.up()
        wait_until(lambda: http_get(base + "/readyz")[0] == 200, STEP_TIMEOUT, "/readyz ready again")
        assert len(c.spans()) == 1


def test_readiness_without_collector_and_methods(sockspan, py_server):
    mport = free_port()
    with sockspan("-p", py_server.pid, "--metrics", f"{LO}:{mport}"):
        assert http_get(f"http://{LO}:{mport}/readyz") == (200, "ready\n")
        m = scrape(mport)
        assert "sockspan_export_spans_total" not in m.text, "export metrics without --zipkin"
        with socket.create_connection((LO, mport)) as s:
            s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 405 ")


def test_a_bare_port_is_this_host_only(sockspan, py_server):
    mport = free_port()
    with sockspan("-p", py_server.pid, "--metrics", str(mport)):
        assert http_get(f"http://{LO}:{mport}/healthz") == (200, "ok\n")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", mport), timeout=STEP_TIMEOUT)


@pytest.mark.parametrize("addr", ["94x64", "nohost:abc", "127.0.0.1:99999", "[::1]9464", "999.1.1.1:9464"])
def test_bad_metrics_address(addr):
    rc, out, err = run_cli("--metrics", addr)
    assert rc != 0, f"--metrics {addr} accepted. stderr:\n{err}"
    assert "--metrics" in err or "metrics" in err, err
    assert out == ""


def test_metrics_port_in_use():
    with socket.socket() as busy:
        busy.bind((LO, 0))
        busy.listen()
        rc, out, err = run_cli("--metrics", f"{LO}:{busy.getsockname()[1]}")
    assert rc != 0
    assert "cannot serve metrics" in err, err


def test_own_traffic_is_left_out_in_a_pid_namespace_of_its_own(sockspan):
    """In a pod without hostPID, getpid() is not the tgid the kernel sees: sockspan learns its
    own by talking to itself, so scraping it makes the scraper's span and none of its own."""
    mport = free_port()
    with sockspan("--metrics", f"{LO}:{mport}", pidns=True) as ss:
        for _ in range(3):
            assert http_get(f"http://{LO}:{mport}/healthz") == (200, "ok\n")
    mine = [s for s in ss.spans if mport in (s["localEndpoint"].get("port"), s["remoteEndpoint"].get("port"))]
    assert sorted(s["kind"] for s in mine) == ["CLIENT"] * 3, mine
    assert not [s for s in ss.spans if s["localEndpoint"].get("serviceName") == "sockspan"]


def test_slow_clients_cannot_hold_the_server(sockspan, py_server):
    """Clients sending a header line every second never go idle: each address gets a few
    connections at most, so probes from another address are answered, and each one is cut
    when it has not completed a request in 10 s (libmicrohttpd's own timeout is for idle ones)."""
    mport = free_port()
    base = f"http://{LO}:{mport}"
    with sockspan("-p", py_server.pid, "--metrics", f"{LO}:{mport}"):
        slow = []
        for _ in range(16):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.connect((LO, mport))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        open_ = set(slow)
        stop = threading.Event()

        def dribble():
            # Until the server closes them all: a line each second, whatever the probes do.
            while open_ and not stop.wait(1):
                for s in list(open_):
                    try:
                        s.sendall(b"X-Slow: 1\r\n")
                        r, _, _ = select.select([s], [], [], 0)
                        if r and s.recv(4096) == b"":
                            open_.discard(s)
                    except OSError:
                        open_.discard(s)

        t = threading.Thread(target=dribble)
        t.start()
        try:
            assert http_get(base + "/healthz") == (200, "ok\n")
            wait_until(lambda: not open_, 60, "the server to cut every slow connection")
            assert http_get(base + "/healthz") == (200, "ok\n")
        finally:
            stop.set()
            t.join()
            for s in slow:
                s.close()
        cut = scrape(mport)["sockspan_metrics_connections_cut_total", {}]
        assert 1 <= cut <= 16
