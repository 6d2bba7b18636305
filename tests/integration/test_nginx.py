"""nginx (Debian's build, sendfile on, epoll, one worker) traced by its worker's pid.

With sendfile the file bodies never pass through a read/write syscall: only
the framing (Content-Length) says where the next response on the connection
starts.
"""
from itlib.apps import CLIENT_COMM, curl
from itlib.procs import now_us
from itlib.spans import check, of_kind, rows_for

LO = "127.0.0.1"
# (url path, status) as nginx answers them: static files, a missing one, `return` locations.
NGINX_EXCHANGES = [("GET", "/small.html", 200), ("GET", "/big.bin", 200),
                   ("GET", "/missing.html", 404), ("GET", "/status/503", 503),
                   ("GET", "/small.html?after=big", 200)]


def test_curl_keepalive_static_and_errors(sockspan, nginx):
    with sockspan("--pid", nginx.worker_pid) as ss:
        t0 = now_us()
        rows = curl(*(nginx.url(p) for _, p, _ in NGINX_EXCHANGES))
        t1 = now_us()
    assert [r["status"] for r in rows] == [st for _, _, st in NGINX_EXCHANGES]
    assert [r["new_connection"] for r in rows] == [True] + [False] * (len(rows) - 1), (
        "curl did not reuse its connection: the test would not exercise framing")
    check(ss.spans, rows_for("SERVER", NGINX_EXCHANGES, "nginx", nginx.worker_pid, (LO, nginx.port),
                             (LO, rows[0]["local_port"])), (t0, t1), sequential=True)


def test_pipelined_requests(sockspan, nginx, driver):
    exchanges = [("GET", "/small.html", 200), ("GET", "/big.bin", 200), ("GET", "/missing.html", 404),
                 ("GET", "/status/503", 503), ("GET", "/status/201", 201)]
    d = driver()
    with sockspan("--pid", nginx.worker_pid, "--pid", d.pid) as ss:
        t0 = now_us()
        lport, results = d.pipeline(LO, nginx.port, [(m, p) for m, p, _ in exchanges])
        t1 = now_us()
    assert [(r["status"], r["length"]) for r in results][:2] == [(200, len(nginx.small)),
                                                                 (200, nginx.big_size)]
    assert [r["status"] for r in results] == [st for _, _, st in exchanges]
    server, client = (LO, nginx.port), (LO, lport)
    check(of_kind(ss.spans, "SERVER"), rows_for("SERVER", exchanges, "nginx", nginx.worker_pid,
                                                server, client), (t0, t1))
    check(of_kind(ss.spans, "CLIENT"), rows_for("CLIENT", exchanges, CLIENT_COMM, d.pid,
                                                server, client), (t0, t1))
    assert len(ss.spans) == 2 * len(exchanges)


def test_connection_opened_before_start(sockspan, nginx, driver):
    """Keep-alive connection used once before sockspan started: only the later exchanges appear.

    nginx reads only when epoll says data is there, and the driver waits on
    stdin, so no socket syscall is in flight while probes attach: every later
    exchange must be seen, from both sides, with the right kind.
    """
    d = driver()
    lport = d.connect(LO, nginx.port)
    assert [r["status"] for r in d.requests([("GET", "/small.html")])] == [200]
    later = [("GET", "/missing.html", 404), ("GET", "/big.bin", 200), ("GET", "/status/503", 503)]
    with sockspan("-p", nginx.worker_pid, "-p", d.pid) as ss:
        t0 = now_us()
        results = d.requests([(m, p) for m, p, _ in later])
        t1 = now_us()
    assert [(r["status"], r["lport"]) for r in results] == [(st, lport) for _, _, st in later]
    server, client = (LO, nginx.port), (LO, lport)
    check(of_kind(ss.spans, "SERVER"), rows_for("SERVER", later, "nginx", nginx.worker_pid,
                                                server, client), (t0, t1), sequential=True)
    check(of_kind(ss.spans, "CLIENT"), rows_for("CLIENT", later, CLIENT_COMM, d.pid,
                                                server, client), (t0, t1), sequential=True)
    assert len(ss.spans) == 2 * len(later)
