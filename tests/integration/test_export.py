"""Export to a Zipkin collector: real traffic, the real agent, the test collector (apps/zipkin_collector.py).

Every run also writes its spans with -o (a copy of what it exports), so each
test compares what the collector received with what the agent produced,
exactly and in order: nothing lost, nothing twice. The collector validates
every span it receives (JSON schema, proto3 schema) and these tests fail on
any body it refused. Drops are checked against sockspan's own counters.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from itlib.apps import CLIENT_COMM, SERVER_COMM, curl
from itlib.collector import collector, scrape  # noqa: F401 (fixture)
from itlib.procs import STEP_TIMEOUT, free_port, now_us, wait_until
from itlib.sockspan import run_cli
from itlib.spans import check, of_kind, rows_for

LO = "127.0.0.1"
# How long the collector stays down in test_collector_down_then_up (the case).
DOWN_SECONDS = 30
# Small batches go out quickly, so tests wait little.
FAST = ("--batch-interval", "0.2")


def exchanges(n, start=0):
    """n distinct GETs (the path carries the index, so order is visible in the spans)."""
    return [("GET", f"/bytes/{i}", 200) for i in range(start, start + n)]


def drive(drv, srv, exs):
    """exs on a new keep-alive connection (the previous one closed); returns the client's port."""
    drv.close()
    lport = drv.connect(srv.host, srv.port)
    results = drv.requests([(m, p) for m, p, _ in exs])
    assert [r["status"] for r in results] == [st for _, _, st in exs]
    return lport


def burst(ngx, n):
    """n requests to nginx on one curl connection, as fast as they go (404s: /x/<i> does not exist).

    The Python test server answers in two writes and waits out delayed ACKs (~40 ms a
    request); nginx does not, so bursts use it.
    """
    results = curl(*[ngx.url(f"/x/{i}") for i in range(n)])
    assert {r["status"] for r in results} == {404}


def wait_spans(c, n, timeout=STEP_TIMEOUT):
    """Until the collector holds at least n spans."""
    wait_until(lambda: len(c.spans()) >= n, timeout, f"{n} spans at the collector")


def wait_exported(mport, n):
    """Until the agent counts n spans accepted (the collector keeps them before it answers)."""
    wait_until(lambda: metric(mport, "sockspan_export_spans_total") == n, STEP_TIMEOUT, f"{n} spans exported")


def metric(port, name, labels=None):
    return scrape(port)[name, labels or {}]


def paths(spans):
    return [s["tags"]["http.path"] for s in spans]


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("encoding", ["json", "proto3"])
def test_collector_receives_exactly_the_spans(encoding, compress, sockspan, py_server, driver, collector):
    """Both sides of 20 exchanges arrive, identical to the agent's own JSON (-o), in either encoding.

    -o is the same JSON for every run, so JSON and proto3 deliveries are identical to each other.
    """
    c = collector()
    d = driver()
    exs = exchanges(20)
    args = ["-p", py_server.pid, "-p", d.pid, "--zipkin", c.url, "--zipkin-encoding", encoding, *FAST]
    with sockspan(*args, *([] if compress else ["--no-compress"])) as ss:
        t0 = now_us()
        lport = drive(d, py_server, exs)
        t1 = now_us()
        wait_spans(c, 40)
    got = c.received()
    assert got["spans"] == ss.spans
    server, client = (LO, py_server.port), (LO, lport)
    check(of_kind(got["spans"], "SERVER"), rows_for("SERVER", exs, SERVER_COMM, py_server.pid, server, client),
          (t0, t1), sequential=True)
    check(of_kind(got["spans"], "CLIENT"), rows_for("CLIENT", exs, CLIENT_COMM, d.pid, server, client),
          (t0, t1), sequential=True)
    ctype = {"json": "application/json", "proto3": "application/x-protobuf"}[encoding]
    assert got["requests"], "no request reached the collector"
    for r in got["requests"]:
        assert (r["content_type"], r["encoding"], r["gzip"], r["b3"], r["status"]) == (
            ctype, encoding, compress, "0", 202), r
        assert r["user_agent"] == "sockspan", r
    assert sum(r["nspans"] for r in got["requests"]) == 40


def test_collector_down_then_up(sockspan, py_server, driver, collector, down_seconds=DOWN_SECONDS):
    """Spans made while the collector is down for down_seconds all arrive once it is back: in order, once."""
    c = collector()
    d = driver()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}", *FAST) as ss:
        drive(d, py_server, exchanges(5))
        wait_spans(c, 5)
        c.down()
        drive(d, py_server, exchanges(10, 5))
        wait_until(lambda: metric(mport, "sockspan_export_requests_total", {"status": "connection_error"}),
                   STEP_TIMEOUT, "a failed POST while the collector is down")
        time.sleep(down_seconds / 2)
        drive(d, py_server, exchanges(10, 15))
        time.sleep(down_seconds / 2)
        assert metric(mport, "sockspan_export_queue_spans") == 20
        assert len(c.spans()) == 5
        c.up()
        wait_exported(mport, 25)
        m = scrape(mport)
    assert c.spans() == ss.spans
    assert paths(ss.spans) == [f"/bytes/{i}" for i in range(25)]
    for reason in ("queue_full", "retries_exhausted", "rejected", "shutdown", "encoding"):
        assert m["sockspan_spans_dropped_total", {"reason": reason}] == 0, reason
    assert m["sockspan_export_spans_total"] == 25
    assert m["sockspan_export_queue_spans"] == 0


@pytest.mark.parametrize("status", [503, 429])
def test_retryable_statuses_are_retried(status, sockspan, py_server, driver, collector):
    """5xx and 429: the same batch again until the collector takes it, then delivered once."""
    c = collector()
    c.respond(status)
    d = driver()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}", *FAST) as ss:
        drive(d, py_server, exchanges(3))
        wait_until(lambda: len(c.received()["requests"]) >= 3, STEP_TIMEOUT, f"3 POSTs answered {status}")
        c.respond(202)
        wait_exported(mport, 3)
        m = scrape(mport)
    got = c.received()
    assert got["spans"] == ss.spans
    assert paths(got["spans"]) == ["/bytes/0", "/bytes/1", "/bytes/2"]
    statuses = [r["status"] for r in got["requests"]]
    assert statuses[-1] == 202 and set(statuses[:-1]) == {status}, statuses
    assert len({r["nspans"] for r in got["requests"]}) == 1, "a retry sent a different batch"
    assert m["sockspan_export_requests_total", {"status": str(status)}] == len(statuses) - 1
    assert m["sockspan_spans_dropped_total", {"reason": "retries_exhausted"}] == 0


def test_rejected_batches_are_dropped_counted_and_not_retried(sockspan, py_server, driver, collector):
    c = collector()
    c.respond(400)
    d = driver()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}", *FAST) as ss:
        drive(d, py_server, exchanges(4))
        wait_until(lambda: metric(mport, "sockspan_spans_dropped_total", {"reason": "rejected"}) == 4,
                   STEP_TIMEOUT, "4 spans dropped as rejected")
        drive(d, py_server, exchanges(3, 4))
        wait_until(lambda: metric(mport, "sockspan_spans_dropped_total", {"reason": "rejected"}) == 7,
                   STEP_TIMEOUT, "7 spans dropped as rejected")
        # Not retried: the POST count stays what it was while time passes.
        posts = len(c.received()["requests"])
        time.sleep(1)
        assert len(c.received()["requests"]) == posts
        c.respond(202)
        drive(d, py_server, exchanges(2, 7))
        wait_exported(mport, 2)
        m = scrape(mport)
    got = c.received()
    rejected = [r for r in got["requests"] if r["status"] == 400]
    assert len(rejected) == posts >= 2
    assert sum(r["nspans"] for r in rejected) == 7, "each rejected batch was sent exactly once"
    assert m["sockspan_export_requests_total", {"status": "400"}] == posts
    assert m["sockspan_export_batches_total", {"result": "dropped"}] == posts
    assert paths(got["spans"]) == ["/bytes/7", "/bytes/8"]
    assert got["spans"] == ss.spans[7:]
    assert len([l for l in ss.stderr().splitlines() if "answered 400" in l]) == 1, ss.stderr()


def test_retries_give_up_after_retry_timeout(sockspan, py_server, driver, collector):
    c = collector()
    c.respond(503)
    d = driver()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}",
                  "--retry-timeout", "1", *FAST) as ss:
        drive(d, py_server, exchanges(3))
        wait_until(lambda: metric(mport, "sockspan_spans_dropped_total", {"reason": "retries_exhausted"}) == 3,
                   STEP_TIMEOUT, "the batch given up")
        c.respond(202)
        drive(d, py_server, exchanges(1, 3))
        wait_spans(c, 1)
    assert c.spans() == ss.spans[3:]
    assert "dropped after retrying" in ss.stderr()


@pytest.mark.parametrize("bound", [("--queue-spans", "20"), ("--queue-bytes", "65536")], ids=["spans", "bytes"])
def test_queue_overflow_drops_newest_and_counts_each(bound, sockspan, nginx, collector):
    """A burst while the collector is down: the queue keeps the oldest spans, every other one is counted."""
    n = 1000
    c = collector()
    c.down()
    mport = free_port()
    with sockspan("-p", nginx.worker_pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}", *bound, *FAST) as ss:
        burst(nginx, n)
        wait_until(lambda: metric(mport, "sockspan_spans_total", {"protocol": "http1", "kind": "SERVER"}) == n, STEP_TIMEOUT,
                   f"{n} spans produced")
        m = scrape(mport)
        dropped = m["sockspan_spans_dropped_total", {"reason": "queue_full"}]
        kept = m["sockspan_export_queue_spans"]
        c.up()
        wait_exported(mport, kept)
        m = scrape(mport)
    assert m["sockspan_spans_total", {"protocol": "http1", "kind": "SERVER"}] == n == len(ss.spans)
    assert 0 < kept < n and kept + dropped == n
    if bound[0] == "--queue-spans":
        assert kept == 20
    assert paths(ss.spans) == [f"/x/{i}" for i in range(n)]
    assert c.spans() == ss.spans[:int(kept)]
    assert m["sockspan_export_spans_total"] == kept
    assert m["sockspan_spans_dropped_total", {"reason": "queue_full"}] == dropped


def test_slow_collector_does_not_slow_capture(sockspan, nginx, collector):
    """Each POST takes a second: capture still turns every exchange into a span, none is dropped."""
    n = 2000
    c = collector()
    c.delay(1.0)
    mport = free_port()
    with sockspan("-p", nginx.worker_pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}",
                  "--batch-bytes", "4096", *FAST) as ss:
        burst(nginx, n)
        wait_until(lambda: metric(mport, "sockspan_spans_total", {"protocol": "http1", "kind": "SERVER"}) == n, STEP_TIMEOUT,
                   f"{n} spans produced")
        behind = metric(mport, "sockspan_export_queue_spans")
        c.respond(202)
        wait_exported(mport, n)
        m = scrape(mport)
    # The exporter was still far behind when capture had produced everything.
    assert behind > 0
    assert paths(ss.spans) == [f"/x/{i}" for i in range(n)]
    assert c.spans() == ss.spans
    assert m["sockspan_ringbuf_lost_events_total"] == 0
    for reason in ("queue_full", "retries_exhausted", "rejected", "shutdown", "encoding"):
        assert m["sockspan_spans_dropped_total", {"reason": reason}] == 0, reason


def test_sigterm_flushes_the_queue(sockspan, py_server, driver, collector):
    """A batch not due for a minute is sent at SIGTERM, before exit 0."""
    c = collector()
    d = driver()
    ss = sockspan("-p", py_server.pid, "--zipkin", c.url, "--batch-interval", "60").start()
    drive(d, py_server, exchanges(10))
    # Half a second in which a wrongly timed exporter would have sent them.
    time.sleep(0.5)
    assert c.received()["requests"] == []
    ss.stop(signal.SIGTERM)
    assert c.spans() == ss.spans
    assert len(ss.spans) == 10
    assert "10 spans sent in 1 batches" in ss.stderr()


def test_flush_gives_up_at_the_deadline(sockspan, py_server, driver, collector):
    """A collector that never answers: the agent exits 0 soon after --flush-timeout, counting the loss."""
    c = collector()
    c.hang()
    d = driver()
    ss = sockspan("-p", py_server.pid, "--zipkin", c.url, "--flush-timeout", "1", *FAST).start()
    drive(d, py_server, exchanges(5))
    # A POST of them is now hanging (sent 0.2 s after the first span).
    time.sleep(1)
    ss.proc.popen.send_signal(signal.SIGTERM)
    # The flush deadline ends that POST: without it, the agent would wait out curl's
    # 15 s request timeout, then retry. 10 s leaves room for detaching the probes.
    assert ss.proc.wait(10) == 0
    ss.stop()
    assert len(ss.spans) == 5
    assert "0 spans sent" in ss.stderr() and "5 at shutdown" in ss.stderr(), ss.stderr()


@pytest.mark.parametrize("ignore_sampling", [False, True])
def test_never_traces_its_own_exports(sockspan, py_server, driver, collector, ignore_sampling):
    """Whole node traced: the collector's side of our POSTs is another process's, ours never is.
    Every POST says `b3: 0`, so the collector's SERVER spans are not made (counted), unless
    --ignore-sampling: then the collector is seen traced and still none of ours is."""
    c = collector()
    d = driver()
    mport = free_port()
    extra = ["--ignore-sampling"] if ignore_sampling else []
    with sockspan("--zipkin", c.url, "--metrics", f"{LO}:{mport}", *FAST, *extra) as ss:
        drive(d, py_server, exchanges(3))
        wait_until(lambda: len([s for s in c.spans() if s["kind"] == "SERVER"
                                and s["localEndpoint"]["port"] == py_server.port]) == 3,
                   STEP_TIMEOUT, "the 3 exchanges' SERVER spans")
        scrape(mport)
        if ignore_sampling:
            wait_until(lambda: any(s["localEndpoint"]["port"] == c.port for s in c.spans()), STEP_TIMEOUT,
                       "the collector's own SERVER span of a POST")
        else:
            # Each POST the collector answered is a span not made (the scrape's span makes more POSTs).
            wait_until(lambda: metric(mport, "sockspan_spans_dropped_total", {"reason": "not_sampled"})
                       == len(c.received()["requests"]), STEP_TIMEOUT, "every POST counted as not sampled")
    sockspan_pid = str(ss.proc.pid)
    mine = [s for s in ss.spans if s["tags"].get("process.pid") == sockspan_pid]
    assert mine == [], f"spans of sockspan's own traffic: {mine}"
    to_collector = [s for s in ss.spans if c.port in (s["localEndpoint"]["port"], s["remoteEndpoint"]["port"])]
    if ignore_sampling:
        assert to_collector, "the collector process was not traced at all: the test proves nothing"
        assert {(s["kind"], s["tags"]["process.pid"], s["localEndpoint"]["port"]) for s in to_collector} == {
            ("SERVER", str(c.pid), c.port)}
    else:
        assert to_collector == []
    # The scrape is traced from the scraper's side only.
    to_metrics = [s for s in ss.spans if mport in (s["localEndpoint"]["port"], s["remoteEndpoint"]["port"])]
    assert to_metrics and {(s["kind"], s["tags"]["process.pid"]) for s in to_metrics} == {
        ("CLIENT", str(os.getpid()))}, to_metrics


def test_headers_and_url_from_environment(sockspan, py_server, driver, collector, monkeypatch):
    c = collector()
    d = driver()
    monkeypatch.setenv("SOCKSPAN_ZIPKIN_URL", c.url)
    with sockspan("-p", py_server.pid, "--zipkin-header", "X-Scope-OrgID: team-a",
                  "--zipkin-header", "X-Token:secret", *FAST) as ss:
        drive(d, py_server, exchanges(1))
        wait_spans(c, 1)
    got = c.received()
    assert got["spans"] == ss.spans
    assert {r["extra"]["X-Scope-OrgID"] for r in got["requests"]} == {"team-a"}
    assert {r["extra"]["X-Token"] for r in got["requests"]} == {"secret"}


def test_headers_from_a_file(sockspan, py_server, driver, collector, tmp_path):
    """A credential in a file stays out of argv, which every process can read."""
    c = collector()
    d = driver()
    headers = tmp_path / "headers"
    headers.write_text("# the collector's tenant and token\r\nX-Scope-OrgID: team-b\r\n\nX-Token: Bearer s3cr3t\n")
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--zipkin-header-file", headers, *FAST) as ss:
        drive(d, py_server, exchanges(1))
        wait_spans(c, 1)
        assert b"s3cr3t" not in Path(f"/proc/{ss.proc.pid}/cmdline").read_bytes()
    got = c.received()
    assert {r["extra"]["X-Scope-OrgID"] for r in got["requests"]} == {"team-b"}
    assert {r["extra"]["X-Token"] for r in got["requests"]} == {"Bearer s3cr3t"}


@pytest.mark.parametrize("url", ["ftp://user:hunter2@127.0.0.1/api/v2/spans", "http://user:hunter2@/x y"])
def test_url_credentials_never_echoed(url):
    rc, out, err = run_cli("--zipkin", url)
    assert rc != 0 and "***@" in err and "hunter2" not in err + out, err


def self_signed_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def test_https_certificate_is_verified(sockspan, py_server, driver, collector, tmp_path):
    """A collector whose certificate no CA vouches for gets no spans: the TLS handshake fails."""
    c = collector(tls=self_signed_cert(tmp_path))
    assert c.url.startswith("https://")
    d = driver()
    mport = free_port()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--metrics", f"{LO}:{mport}",
                  "--retry-timeout", "1", *FAST) as ss:
        drive(d, py_server, exchanges(2))
        wait_until(lambda: metric(mport, "sockspan_spans_dropped_total", {"reason": "retries_exhausted"}) == 2,
                   STEP_TIMEOUT, "the batch given up")
        m = scrape(mport)
    assert m["sockspan_export_requests_total", {"status": "tls_error"}] >= 1
    assert c.received()["requests"] == []
    assert re.search(r"certificate", ss.stderr(), re.IGNORECASE), ss.stderr()


def test_https_with_a_trusted_ca(sockspan, py_server, driver, collector, tmp_path):
    """--zipkin-ca names the CA that signed the collector's certificate: spans arrive over https."""
    cert, key = self_signed_cert(tmp_path)
    c = collector(tls=(cert, key))
    d = driver()
    with sockspan("-p", py_server.pid, "--zipkin", c.url, "--zipkin-ca", cert, *FAST) as ss:
        drive(d, py_server, exchanges(2))
        wait_until(lambda: len(c.spans()) == 2, STEP_TIMEOUT, "2 spans at the https collector")
    assert sorted(s["id"] for s in c.spans()) == sorted(s["id"] for s in ss.spans)


@pytest.mark.parametrize("args", [
    ["--zipkin-ca", "/nonexistent/ca.pem"],
    ["--zipkin", "ftp://127.0.0.1/api/v2/spans"],
    ["--zipkin", "not a url"],
    ["--zipkin", "http://127.0.0.1:9411/api/v2/spans", "--zipkin-header", "no colon"],
    ["--zipkin", "http://127.0.0.1:9411/api/v2/spans", "--zipkin-header", ": empty name"],
    ["--zipkin", "http://127.0.0.1:9411/api/v2/spans", "--zipkin-header-file", "/nonexistent/headers"],
    ["--zipkin", "http://127.0.0.1:9411/api/v2/spans", "--zipkin-header-file", "/etc/os-release"],
    ["--zipkin-encoding", "thrift"],
    ["--batch-bytes", "10"],
    ["--batch-interval", "0"],
    ["--queue-spans", "0"],
    ["--queue-bytes", "1000"],
    ["--flush-timeout", "-1"],
], ids=lambda a: " ".join(a))
def test_bad_export_options(args):
    rc, out, err = run_cli(*args)
    assert rc != 0, f"sockspan {' '.join(args)} exited 0. stderr:\n{err}"
    assert err.strip(), "no message on stderr"
    assert out.strip() == ""


def test_help_documents_export():
    rc, out, _ = run_cli("--help")
    assert rc == 0
    for opt in ("--zipkin", "SOCKSPAN_ZIPKIN_URL", "--zipkin-header", "--zipkin-encoding", "--no-compress",
                "--batch-bytes", "--batch-interval", "--queue-spans", "--queue-bytes", "--retry-timeout",
                "--flush-timeout", "--metrics"):
        assert opt in out, opt

