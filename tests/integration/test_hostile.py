"""Hostile traffic against a traced server, beside good traffic: sockspan stays
within its memory budget, says what it gave up, and the good requests still
get their spans."""
import socket
import time

from itlib.apps import CLIENT_COMM, SERVER_COMM
from itlib.collector import http_get, scrape
from itlib.hostile import Budgeted, close_all, connect, local_port, read_response
from itlib.procs import STEP_TIMEOUT, free_port, log, now_us, wait_until
from itlib.spans import check, of_kind, rows_for, server_row

LO = "127.0.0.1"
LIMIT_MB = 16
HEAD = 60_000  # an HTTP/1 head that never ends: buffered, up to the parser's 64 KiB bound


def test_memory_budget_sheds_the_costliest_connections(sockspan, py_server, driver):
    mport = free_port()
    d = driver()
    with sockspan("-p", py_server.pid, "--memory-limit", LIMIT_MB, "--metrics", f"{LO}:{mport}") as ss:
        assert http_get(f"http://{LO}:{mport}/healthz")[0] == 200
        # 400 heads of 60 kB held open: ~24 MB buffered if nothing gave way.
        hostile = []
        for i in range(400):
            s = socket.create_connection((LO, py_server.port), timeout=STEP_TIMEOUT)
            s.sendall(b"GET /x HTTP/1.1\r\nX-Pad: " + b"a" * HEAD)
            hostile.append(s)
        wait_until(lambda: scrape(mport)["sockspan_connections_shed_total", {}] > 0, STEP_TIMEOUT,
                   "connections shed for memory")
        wait_until(lambda: scrape(mport)["sockspan_heap_bytes", {}] <= LIMIT_MB << 20, STEP_TIMEOUT,
                   f"the heap back under {LIMIT_MB} MiB")
        # A good request beside them gets its span.
        lport = d.connect(LO, py_server.port)
        assert [r["status"] for r in d.requests([("GET", "/status/200")])] == [200]
        for s in hostile:
            s.close()
    good = [s for s in ss.spans if s["kind"] == "SERVER" and s["remoteEndpoint"].get("port") == lport]
    assert [s["name"] for s in good] == ["get /status/{id}"]


GARBAGE = {
    "random binary": bytes(range(256)) * 64,
    "TLS ClientHello": bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00",
    "1 MiB request line": b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "10,000 headers": b"GET /h HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(10_000)) + b"\r\n",
    "bogus HTTP/2 frames": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 9 + bytes(range(200)),
    "RESP array of 2^31": b"*2147483647\r\n$3\r\nGET\r\n",
}


def send_garbage(port, data):
    with socket.create_connection((LO, port), timeout=STEP_TIMEOUT) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass  # the server may hang up mid-way: what it read is what sockspan saw


def test_garbage_makes_no_span_and_good_requests_keep_theirs(sockspan, py_server, driver):
    d = driver()
    with sockspan("-p", py_server.pid) as ss:
        lport = d.connect(LO, py_server.port)
        for name, data in GARBAGE.items():
            send_garbage(py_server.port, data)
            assert [r["status"] for r in d.requests([("GET", "/status/200")])] == [200], name
    servers = [s for s in ss.spans if s["kind"] == "SERVER"]
    assert [s["remoteEndpoint"].get("port") for s in servers] == [lport] * len(GARBAGE), servers
    assert {s["name"] for s in servers} == {"get /status/{id}"}


def http1_counters(agent):
    """The HTTP/1 counters a hostile peer could move, by name."""
    m = agent.scrape()
    h1 = {"protocol": "http1"}
    return {"parse errors": m["sockspan_parse_errors_total", h1],
            "unmatched": m["sockspan_unmatched_messages_total", h1],
            "untracked": m["sockspan_requests_untracked_total", h1],
            "resyncs": m["sockspan_stream_resyncs_total"]}


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" * 64
BODY_MB = 16  # per hostile connection, sent while good requests go on beside


def test_endless_bodies_hide_no_request(sockspan, nginx, driver):
    """A 4 GiB Content-Length (2^32: a 32-bit length would read 0) and a chunked body
    that never ends, both made of request heads: nginx answers each at once and
    reads on; sockspan skips the bodies, so the heads inside make no exchange."""
    d = driver()
    with Budgeted(sockspan, "-p", nginx.worker_pid) as agent:
        lport = d.connect(LO, nginx.port)
        t0 = now_us()
        length, chunked = connect(nginx.port, 2)
        length.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\n\r\n")
        chunked.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert [read_response(s).split(b" ", 2)[1] for s in (length, chunked)] == [b"200", b"200"]
        chunks = b"%x;ext=1\r\n%s\r\n" % (len(SMUGGLED), SMUGGLED) * 16
        cpu0, sent, good = agent.cpu_seconds(), 0, []
        while sent < BODY_MB << 20:
            length.sendall(SMUGGLED * 16)
            chunked.sendall(chunks)
            sent += len(chunks)
            if len(good) < 20 and sent % (1 << 20) < len(chunks):
                good += d.requests([("GET", "/small.html")])
        log(f"2 x {sent >> 20} MiB of body in {agent.counter('sockspan_kernel_events_total'):.0f} events: "
            f"sockspan {agent.cpu_seconds() - cpu0:.2f} s of CPU")
        hostile = [local_port(s) for s in (length, chunked)]
        close_all([length, chunked])
        wait_until(lambda: agent.counter("sockspan_connections") == 1, STEP_TIMEOUT, "nginx to close them")
        t1 = now_us()
        assert http1_counters(agent) == {"parse errors": 0, "unmatched": 0, "untracked": 0, "resyncs": 0}
    agent.check_peak()
    assert [r["status"] for r in good] == [200] * len(good) and len(good) >= 10
    server = (LO, nginx.port)
    expected = [server_row("post /upload", "/upload", 200, "nginx", nginx.worker_pid, server, (LO, p),
                           method="POST") for p in hostile]
    check(ss_for(agent.spans, hostile), expected, (t0, t1))
    check(ss_for(agent.spans, [lport]), rows_for("SERVER", [("GET", "/small.html", 200)] * len(good), "nginx",
                                               nginx.worker_pid, server, (LO, lport)), (t0, t1), sequential=True)
    assert len(agent.spans) == len(hostile) + len(good)


def ss_for(spans, ports):
    """SERVER spans of the connections from these client ports, in output order."""
    return [s for s in spans if s["kind"] == "SERVER" and s["remoteEndpoint"].get("port") in ports]


SLOW = 100
SLOW_HEAD = b"GET /status/200 HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 24


def test_slow_half_requests(sockspan, py_server, driver):
    """100 heads dribbled a byte per write, all at once, over seconds: half of them
    end and get their spans (timed from their first byte), the others hang up
    and leave nothing; good requests beside them keep theirs."""
    d = driver()
    with Budgeted(sockspan, "-p", py_server.pid) as agent:
        lport = d.connect(LO, py_server.port)
        t0 = now_us()
        slow = connect(py_server.port, SLOW)
        cpu0, events0 = agent.cpu_seconds(), agent.counter("sockspan_kernel_events_total")
        good = []
        for i in range(len(SLOW_HEAD)):
            for s in slow:
                s.send(SLOW_HEAD[i:i + 1])
            time.sleep(0.02)
            if i % 8 == 0:
                good += d.requests([("GET", "/status/201")])
        done, gone = slow[:SLOW // 2], slow[SLOW // 2:]
        for s in done:
            s.sendall(b"\r\n\r\n")
        assert {read_response(s).split(b" ", 2)[1] for s in done} == {b"200"}
        events = agent.counter("sockspan_kernel_events_total") - events0
        log(f"{events} events of heads dribbled: sockspan {agent.cpu_seconds() - cpu0:.2f} s of CPU")
        ports = [local_port(s) for s in done]
        close_all(slow)
        wait_until(lambda: agent.counter("sockspan_connections") == 1, STEP_TIMEOUT, "the server to close them")
        t1 = now_us()
        # http.server takes a head cut by the end of the connection as whole and
        # answers it: a response to no request sockspan saw, for each of the others.
        assert http1_counters(agent) == {"parse errors": 0, "unmatched": len(gone), "untracked": 0, "resyncs": 0}
    agent.check_peak()
    server = (LO, py_server.port)
    for p in ports:  # the server's threads read their first bytes in any order
        check(ss_for(agent.spans, [p]), [server_row("get /status/{id}", "/status/200", 200, SERVER_COMM,
                                                    py_server.pid, server, (LO, p))], (t0, t1))
    check(ss_for(agent.spans, [lport]), rows_for("SERVER", [("GET", "/status/201", 201)] * len(good), SERVER_COMM,
                                               py_server.pid, server, (LO, lport)), (t0, t1), sequential=True)
    assert len(agent.spans) == len(ports) + len(good)


def test_pipeline_overflow_never_pairs_a_late_answer_with_another_request(sockspan, py_server, driver):
    """Issue #11 defect 3 end to end. A client pipelines 80 requests, each answered
    with its own status; the server answers the first, then sleeps on the second
    (a late answer), and meanwhile the client asks once more. 64 requests are kept
    pending: the overflow leaves a loss marker, so the answers behind it pair with
    nothing (no span) instead of shifting onto the request asked late. Requests
    once all is answered get their own statuses."""
    statuses = [s for s in range(206, 300) if s != 304][:78]
    first = [("GET", "/status/200"), ("GET", "/sleep/1000")] + [("GET", f"/status/{s}") for s in statuses]
    late, after = [("GET", "/status/299")], [("GET", "/status/201"), ("GET", "/status/202"), ("GET", "/status/203")]
    d = driver()
    with Budgeted(sockspan, "-p", py_server.pid, "-p", d.pid) as agent:
        t0 = now_us()
        lport, results = d.pipeline(LO, py_server.port, first, after_first=late, after_all=after)
        t1 = now_us()
        # Each side kept 63 and a marker: the other 16 of the first 80 were untracked.
        agent.settle("sockspan_requests_untracked_total", {"protocol": "http1"}, 2 * 16)
    agent.check_peak()
    exchanges = [(m, p, int(p.rsplit("/", 1)[1]) if "status" in p else 200) for m, p in first + late + after]
    assert [r["status"] for r in results] == [st for _, _, st in exchanges]
    kept = exchanges[:63]
    server, client = (LO, py_server.port), (LO, lport)
    # The client's late request sits behind the marker: no span. The server read it
    # only after answering all 80 (it reads a request once the last is answered).
    check(of_kind(agent.spans, "CLIENT"), rows_for("CLIENT", kept + exchanges[-3:], CLIENT_COMM, d.pid, server,
                                                   client), (t0, t1))
    check(of_kind(agent.spans, "SERVER"), rows_for("SERVER", kept + exchanges[-4:], SERVER_COMM, py_server.pid,
                                                   server, client), (t0, t1))


NEVER = 100  # connections, each with 100 requests the server never answers
FIXED = "GET /status/200?pad=%s HTTP/1.1\r\nHost: x\r\n\r\n"


def test_pipelines_never_answered(sockspan, py_server, driver):
    """100 connections each write 100 requests behind one the server sleeps on
    for good: 64 are kept per connection, the rest counted untracked; none makes
    a span, memory stays within the budget, good requests beside keep theirs."""
    d = driver()
    wire = (b"GET /sleep/600000 HTTP/1.1\r\nHost: x\r\n\r\n" +
            b"".join((FIXED % f"{i:05d}").encode() for i in range(NEVER - 1)))
    assert len(wire) < 8192, "one read of http.server's buffer takes them all"
    with Budgeted(sockspan, "-p", py_server.pid) as agent:
        lport = d.connect(LO, py_server.port)
        t0 = now_us()
        socks = connect(py_server.port, NEVER)
        good = []
        for i, s in enumerate(socks):
            s.sendall(wire)
            if i % 10 == 0:
                good += d.requests([("GET", "/status/202")])
        agent.settle("sockspan_requests_untracked_total", {"protocol": "http1"}, NEVER * (NEVER - 64))
        good += d.requests([("GET", "/status/202")])
        t1 = now_us()
        # One request per connection became the marker: counted as never answered.
        assert http1_counters(agent) == {"parse errors": 0, "unmatched": NEVER, "untracked": NEVER * (NEVER - 64),
                                         "resyncs": 0}
        close_all(socks)
    agent.check_peak()
    check(agent.spans, rows_for("SERVER", [("GET", "/status/202", 202)] * len(good), SERVER_COMM, py_server.pid,
                                (LO, py_server.port), (LO, lport)), (t0, t1), sequential=True)
