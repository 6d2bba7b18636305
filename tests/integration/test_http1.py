"""HTTP/1.1 through the Python test server: exact spans on the server side, the client side, or both.

The server (it-httpd) and the client driver (it-client) are separate processes
with their own pids and comms, so `--pid` can pick either side.
"""
import os
import random
import time

import pytest

from itlib.apps import CLIENT_COMM, SERVER_COMM, curl
from itlib.kube import cgroup2_root
from itlib.procs import log, now_us, STEP_TIMEOUT, wait_until
from itlib.spans import check, client_row, for_port, of_kind, rows_for, server_row

LO = "127.0.0.1"


def drive(drv, srv, exchanges):
    """Run exchanges [(method, path, status[, body])] on one new keep-alive connection.

    Returns the client's ephemeral port; checks every response had the status planned.
    """
    lport = drv.connect(srv.host, srv.port)
    results = drv.requests([(m, p, *rest) for m, p, _, *rest in exchanges])
    assert [r["status"] for r in results] == [e[2] for e in exchanges]
    assert results[0]["lport"] == lport
    return lport


def check_both_sides(spans, exchanges, srv, drv, lport, window, sequential=True):
    """Exactly one SERVER and one CLIENT span per exchange, nothing else."""
    server, client = (srv.host, srv.port), (srv.host, lport)
    check(of_kind(spans, "SERVER"), rows_for("SERVER", exchanges, SERVER_COMM, srv.pid, server, client),
          window, sequential)
    check(of_kind(spans, "CLIENT"), rows_for("CLIENT", exchanges, CLIENT_COMM, drv.pid, server, client),
          window, sequential)
    assert len(spans) == 2 * len(exchanges), f"unexpected extra spans: {spans}"


def test_curl_traced_by_server_pid(sockspan, py_server):
    with sockspan("-p", py_server.pid) as ss:
        t0 = now_us()
        [c] = curl(py_server.url("/status/200?verbose=1"))
        t1 = now_us()
    assert c["status"] == 200
    check(ss.spans, [server_row("get /status/{id}", "/status/200", 200, SERVER_COMM, py_server.pid,
                                (LO, py_server.port), (LO, c["local_port"]))], (t0, t1))


def test_curl_node_wide(sockspan, py_server):
    """Without --pid every process is traced: curl's CLIENT span and the server's SERVER span."""
    with sockspan() as ss:
        t0 = now_us()
        [c] = curl(py_server.url("/status/404"))
        t1 = now_us()
    mine = for_port(ss.spans, py_server.port)
    server, client = (LO, py_server.port), (LO, c["local_port"])
    check(of_kind(mine, "SERVER"), [server_row("get /status/{id}", "/status/404", 404, SERVER_COMM,
                                               py_server.pid, server, client)], (t0, t1))
    check(of_kind(mine, "CLIENT"), [client_row("get /status/{id}", "/status/404", 404, "curl",
                                               c["pid"], server, client)], (t0, t1))


def test_100_keepalive_requests(sockspan, py_server, driver):
    rnd = random.Random(100)
    exchanges = []
    for i in range(100):
        status = rnd.choice([200, 404, 503])
        query = f"?i={i}" if i % 7 == 0 else ""
        exchanges.append(("GET", f"/status/{status}{query}", status))
    d = driver()
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport = drive(d, py_server, exchanges)
        t1 = now_us()
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (t0, t1))
    assert sum(1 for s in ss.spans if "error" in s["tags"]) == 2 * sum(e[2] == 503 for e in exchanges)


KEEPALIVE_CASES = {
    # A chunked body must be framed by its chunks, not by a Content-Length.
    "chunked": [("GET", "/chunked/5", 200), ("GET", "/status/404", 404),
                ("GET", "/chunked/1", 200), ("GET", "/status/200", 200)],
    # 1 MiB is far beyond --max-payload: only the framing tells where the next response starts.
    "1mib_response": [("GET", "/bytes/1048576", 200), ("GET", "/status/503", 503),
                      ("GET", "/status/200", 200)],
    # Responses that have no body whatever their headers say (RFC 9112 6.3): HEAD, 204, 304.
    "bodyless_responses": [("HEAD", "/bytes/100", 200), ("GET", "/status/204", 204),
                           ("GET", "/status/304", 304), ("HEAD", "/chunked/3", 200),
                           ("GET", "/status/200", 200)],
    # Same for a request body larger than the capture limit.
    "large_request_body": [("POST", "/echo", 200, 100_000), ("GET", "/status/201", 201),
                           ("POST", "/echo", 200, 10), ("GET", "/status/404", 404)],
}


@pytest.mark.parametrize("case", sorted(KEEPALIVE_CASES))
def test_framing_on_keepalive_connection(case, sockspan, py_server, driver):
    exchanges = KEEPALIVE_CASES[case]
    d = driver()
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport = drive(d, py_server, exchanges)
        t1 = now_us()
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (t0, t1))


def test_concurrent_keepalive_connections(sockspan, py_server, driver):
    """Five clients at once, ten exchanges each: every connection's spans exact and in its order."""
    drivers = [driver() for _ in range(5)]
    plans = {}
    with sockspan("-p", py_server.pid) as ss:
        t0 = now_us()
        for i, d in enumerate(drivers):
            lport = d.connect(LO, py_server.port)
            status = [200, 201, 202, 206, 418][i]
            plans[lport] = [("GET", f"/status/{status}", status), ("GET", f"/bytes/{i * 1000}", 200),
                            ("GET", "/status/503", 503)] * 3 + [("GET", "/chunked/2", 200)]
            d.start_requests([(m, p) for m, p, _ in plans[lport]])
        for d in drivers:
            d.finish_requests()
        t1 = now_us()
    assert sorted({s["remoteEndpoint"]["port"] for s in ss.spans}) == sorted(plans)
    for lport, exchanges in plans.items():
        mine = [s for s in ss.spans if s["remoteEndpoint"]["port"] == lport]
        check(mine, rows_for("SERVER", exchanges, SERVER_COMM, py_server.pid, (LO, py_server.port),
                             (LO, lport)), (t0, t1), sequential=True)


def test_expect_100_continue(sockspan, py_server, tmp_path):
    """An interim "100 Continue" is not the response: one span per exchange, with the final status."""
    body = tmp_path / "body"
    body.write_bytes(b"x" * 2000)
    with sockspan() as ss:
        t0 = now_us()
        rows = curl((py_server.url("/echo"), "--data-binary", f"@{body}", "-H", "Expect: 100-continue"),
                    py_server.url("/status/404"))
        t1 = now_us()
    assert [r["status"] for r in rows] == [200, 404] and not rows[1]["new_connection"]
    exchanges = [("POST", "/echo", 200), ("GET", "/status/404", 404)]
    server, client = (LO, py_server.port), (LO, rows[0]["local_port"])
    mine = for_port(ss.spans, py_server.port)
    check(of_kind(mine, "SERVER"), rows_for("SERVER", exchanges, SERVER_COMM, py_server.pid, server,
                                            client), (t0, t1), sequential=True)
    check(of_kind(mine, "CLIENT"), rows_for("CLIENT", exchanges, "curl", rows[0]["pid"], server,
                                            client), (t0, t1), sequential=True)


def test_keepalive_idle_time_is_not_in_spans(sockspan, py_server, driver):
    """A span runs from the request's first byte to the response's last byte.

    The connection idles between exchanges (the server blocked in recv()); each
    exchange's spans must lie inside the window of that exchange alone, so a
    timestamp taken when the server started waiting, instead of when the
    request arrived, is caught. The pause creates the idle gap; it asserts nothing.
    """
    exchanges = [("GET", "/status/200", 200), ("GET", "/status/404", 404), ("GET", "/status/201", 201)]
    d = driver()
    windows = []
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        lport = d.connect(LO, py_server.port)
        for m, p, _ in exchanges:
            time.sleep(0.3)
            t0 = now_us()
            d.requests([(m, p)])
            windows.append((t0, now_us()))
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (windows[0][0], windows[-1][1]))
    for kind in ("SERVER", "CLIENT"):
        spans = sorted(of_kind(ss.spans, kind), key=lambda s: s["timestamp"])
        for span, window, exchange in zip(spans, windows, exchanges):
            comm, pid = (SERVER_COMM, py_server.pid) if kind == "SERVER" else (CLIENT_COMM, d.pid)
            check([span], rows_for(kind, [exchange], comm, pid, (LO, py_server.port), (LO, lport)),
                  window)


def test_response_delimited_by_close(sockspan, py_server, driver):
    """No Content-Length, no chunking: the body ends when the server closes the connection."""
    exchanges = [("GET", "/status/200", 200), ("GET", "/close/3000", 200)]
    d = driver()
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport = drive(d, py_server, exchanges)
        t1 = now_us()
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (t0, t1))


def test_pipelined_requests_in_one_send(sockspan, py_server, driver):
    """Five requests in one send(): each response must be matched to its own request."""
    exchanges = [("GET", "/status/201", 201), ("GET", "/bytes/7", 200), ("GET", "/status/404", 404),
                 ("POST", "/echo", 200, 5), ("GET", "/status/503", 503)]
    d = driver()
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport, results = d.pipeline(LO, py_server.port, [(m, p, *rest) for m, p, _, *rest in exchanges])
        t1 = now_us()
    assert [r["status"] for r in results] == [e[2] for e in exchanges]
    # Requests share a read/write syscall, so timestamps may tie: no sequential check.
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (t0, t1), sequential=False)


@pytest.mark.parametrize("how", [{"piece": 7}, {"iov": 1}, {"iov": 1 << 16}],
                         ids=["small-writes", "iovecs", "one-iovec"])
def test_requests_split_into_many_pieces(how, sockspan, py_server, driver):
    """Requests arriving 7 bytes at a time must be reassembled before parsing; written by
    one sendmsg() of 1-byte iovec entries, several times what one event walks (grpcio
    writes up to 260 at once), every byte must be captured; and by one sendmsg() of a
    single entry (the kernel side's one-buffer path)."""
    exchanges = [("GET", "/status/201", 201), ("POST", "/echo", 200, 50), ("GET", "/status/503", 503)]
    d = driver()
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport, results = d.pipeline(LO, py_server.port, [(m, p, *rest) for m, p, _, *rest in exchanges],
                                    **how)
        t1 = now_us()
    assert [r["status"] for r in results] == [e[2] for e in exchanges]
    check_both_sides(ss.spans, exchanges, py_server, d, lport, (t0, t1), sequential=False)
    assert " 0 payload bytes truncated" in ss.stderr(), ss.stderr()


def test_reconnects_reusing_file_descriptors(sockspan, py_server, driver):
    """Close and reconnect three times: the client's fd number comes back, the connection is new."""
    d = driver()
    rounds = []
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        for status in (200, 404, 503):
            exchanges = [("GET", f"/status/{status}", status), ("GET", "/bytes/10", 200)]
            rounds.append((drive(d, py_server, exchanges), exchanges))
            d.close()
        t1 = now_us()
    assert len({lport for lport, _ in rounds}) == 3
    for lport, exchanges in rounds:
        mine = [s for s in ss.spans if lport in (s["localEndpoint"]["port"], s["remoteEndpoint"]["port"])]
        check_both_sides(mine, exchanges, py_server, d, lport, (t0, t1))
    assert len(ss.spans) == 12


def test_span_names_template_ids(sockspan, py_server, driver):
    """Numeric, UUID and long-hex path segments become {id} in the name; http.path keeps them."""
    paths = {
        "/users/123e4567-e89b-12d3-a456-426614174000": "get /users/{id}",
        "/orders/5f3a9c0e7b1d4f2a8c6e0b9d7a1c3e5f/items/42": "get /orders/{id}/items/{id}",
        "/api/v2/users?page=3": "get /api/v2/users",
    }
    d = driver()
    with sockspan("-p", py_server.pid) as ss:
        t0 = now_us()
        lport = drive(d, py_server, [("GET", p, 404) for p in paths])
        t1 = now_us()
    server, client = (LO, py_server.port), (LO, lport)
    check(ss.spans, [server_row(name, p.split("?")[0], 404, SERVER_COMM, py_server.pid, server, client)
                     for p, name in paths.items()], (t0, t1), sequential=True)


def test_connection_opened_before_start_blocked_server(sockspan, py_server, driver):
    """A keep-alive connection used once before sockspan started, then again after "ready".

    The client waits on stdin (not the socket) while probes attach, so all its
    later exchanges are seen. The server's handler thread is already blocked in
    recv() when probes attach; a syscall-tracepoint design cannot see the buffer
    of a call whose entry it missed, so the server side may lose the first later
    request. Either outcome below is exact; anything else (a span for the
    warm-up request, a misframed or wrongly-kinded span) is a bug.
    """
    d = driver()
    lport = drive(d, py_server, [("GET", "/status/202", 202)])
    later = [("GET", "/status/200", 200), ("GET", "/status/404", 404), ("GET", "/status/503", 503)]
    with sockspan("-p", py_server.pid, "-p", d.pid) as ss:
        t0 = now_us()
        results = d.requests([(m, p) for m, p, _ in later])
        t1 = now_us()
    assert [r["lport"] for r in results] == [lport] * 3, "the warm connection was not reused"
    server, client = (LO, py_server.port), (LO, lport)
    check(of_kind(ss.spans, "CLIENT"), rows_for("CLIENT", later, CLIENT_COMM, d.pid, server, client),
          (t0, t1), sequential=True)
    got_server = of_kind(ss.spans, "SERVER")
    n = 3 if len(got_server) == 3 else 2
    log(f"server side reported {n} of the 3 later exchanges")
    check(got_server, rows_for("SERVER", later[3 - n:], SERVER_COMM, py_server.pid, server, client),
          (t0, t1), sequential=True)
    assert len(ss.spans) == 3 + n


@pytest.mark.parametrize("traced", ["client", "server", "both"])
def test_pid_filter(traced, sockspan, py_server, driver):
    exchanges = [("GET", "/status/200", 200), ("GET", "/status/404", 404), ("GET", "/status/503", 503)]
    d = driver()
    args = {"client": ["-p", d.pid], "server": ["-p", py_server.pid],
            "both": ["--pid", d.pid, "--pid", py_server.pid]}[traced]
    with sockspan(*args) as ss:
        t0 = now_us()
        lport = drive(d, py_server, exchanges)
        t1 = now_us()
    server, client = (LO, py_server.port), (LO, lport)
    want_server = rows_for("SERVER", exchanges, SERVER_COMM, py_server.pid, server, client)
    want_client = rows_for("CLIENT", exchanges, CLIENT_COMM, d.pid, server, client)
    check(of_kind(ss.spans, "SERVER"), want_server if traced != "client" else [], (t0, t1), True)
    check(of_kind(ss.spans, "CLIENT"), want_client if traced != "server" else [], (t0, t1), True)
    assert len(ss.spans) == {"client": 3, "server": 3, "both": 6}[traced]
    if traced == "both":
        by_ts = lambda spans: sorted(spans, key=lambda s: s["timestamp"])  # noqa: E731
        for c, s in zip(by_ts(of_kind(ss.spans, "CLIENT")), by_ts(of_kind(ss.spans, "SERVER"))):
            assert (c["name"], c["tags"]["http.status_code"]) == (s["name"], s["tags"]["http.status_code"])
            assert c["localEndpoint"]["port"] == s["remoteEndpoint"]["port"]
            assert c["remoteEndpoint"]["port"] == s["localEndpoint"]["port"]


def untraced_traffic_and_a_control(a, b, c_srv):
    """b (untraced) talks to c_srv (untraced), then a curl asks the traced server a.
    Returns the only span sockspan may give, and the time window, for check()."""
    t0 = now_us()
    drive(b, c_srv, [("GET", "/status/200", 200), ("GET", "/status/503", 503)])
    [ctl] = curl(a.url("/status/201"))
    t1 = now_us()
    return [server_row("get /status/{id}", "/status/201", 201, SERVER_COMM, a.pid,
                       (LO, a.port), (LO, ctl["local_port"]))], (t0, t1)


def test_untraced_processes_produce_nothing(sockspan, server, driver):
    """Trace server A only; B (client) talks to C (server): no span. A's own exchange is the control."""
    a, c_srv = server(), server()
    b = driver()
    with sockspan("-p", a.pid) as ss:
        want, window = untraced_traffic_and_a_control(a, b, c_srv)
    check(ss.spans, want, window)


def test_cgroup_filter_traces_only_that_cgroup(sockspan, server):
    """A kubelet-like pod cgroup: only the process moved into it is traced."""
    root = cgroup2_root()
    pod = root / f"sockspan-it-{os.getpid()}-{random.randrange(1 << 30)}"
    pod.mkdir()
    inside, outside = server(), server()
    try:
        (pod / "cgroup.procs").write_text(str(inside.pid))
        with sockspan("--cgroup", str(pod)) as ss:
            t0 = now_us()
            curl(outside.url("/status/200"))
            [c] = curl(inside.url("/status/202"))
            t1 = now_us()
    finally:
        (root / "cgroup.procs").write_text(str(inside.pid))
        pod.rmdir()
    check(ss.spans, [server_row("get /status/{id}", "/status/202", 202, SERVER_COMM, inside.pid,
                                (LO, inside.port), (LO, c["local_port"]))], (t0, t1))


def test_cgroup_filter_takes_the_pods_containers_and_new_ones(sockspan, server):
    """A pod cgroup with container cgroups under it, as kubelet makes them: a process in a
    container is traced, so is one in a container made after sockspan started (the
    directories are scanned again each second); one outside the pod is not."""
    root = cgroup2_root()
    pod = root / f"sockspan-it-{os.getpid()}-{random.randrange(1 << 30)}"
    first, later = pod / "ctr-first", pod / "ctr-later"
    pod.mkdir()
    first.mkdir()
    a, b, outside = server(), server(), server()
    try:
        (first / "cgroup.procs").write_text(str(a.pid))
        with sockspan("--cgroup", str(pod)) as ss:
            t0 = now_us()
            curl(outside.url("/status/200"))
            [ca] = curl(a.url("/status/201"))
            later.mkdir()
            (later / "cgroup.procs").write_text(str(b.pid))
            # Until b's requests are seen (bounded): each one is a span once its cgroup is.
            b_calls = []
            wait_until(lambda: b_calls.append(curl(b.url("/status/202"))[0]) or
                       (ss.out_file.exists() and f'"port":{b.port}}}' in ss.out_file.read_text()),
                       STEP_TIMEOUT, "a process in a new container cgroup to be traced", interval=0.2)
            t1 = now_us()
    finally:
        for p in (a, b):
            (root / "cgroup.procs").write_text(str(p.pid))
        for d in (first, later, pod):
            if d.exists():
                d.rmdir()
    spans_a = [s for s in ss.spans if s["localEndpoint"]["port"] == a.port]
    spans_b = [s for s in ss.spans if s["localEndpoint"]["port"] == b.port]
    check(spans_a, [server_row("get /status/{id}", "/status/201", 201, SERVER_COMM, a.pid,
                               (LO, a.port), (LO, ca["local_port"]))], (t0, t1))
    assert spans_b and all(s["tags"]["http.status_code"] == "202" for s in spans_b)
    assert len(spans_b) <= len(b_calls)
    assert len(ss.spans) == len(spans_a) + len(spans_b), "a process outside the pod was traced"


def test_ipv6_loopback(sockspan, server, driver):
    srv = server("::1")
    d = driver()
    exchanges = [("GET", "/status/200", 200), ("GET", "/status/503", 503)]
    with sockspan("-p", srv.pid, "-p", d.pid) as ss:
        t0 = now_us()
        lport = drive(d, srv, exchanges)
        t1 = now_us()
    check_both_sides(ss.spans, exchanges, srv, d, lport, (t0, t1))
    for s in ss.spans:
        assert s["localEndpoint"]["ipv6"] == "::1" and s["remoteEndpoint"]["ipv6"] == "::1", s


def test_service_name_override(sockspan, py_server):
    with sockspan("-p", py_server.pid, "--service-name", "checkout") as ss:
        t0 = now_us()
        [c] = curl(py_server.url("/status/200"))
        t1 = now_us()
    check(ss.spans, [server_row("get /status/{id}", "/status/200", 200, "checkout", py_server.pid,
                                (LO, py_server.port), (LO, c["local_port"]))], (t0, t1))
