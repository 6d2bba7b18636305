"""Faults around the agent: a traced process killed mid-request, pid and fd reuse,
sockspan restarted while traffic flows, a ring buffer overflowing under a burst,
SIGTERM under load and during the attach. Whatever happens, sockspan stays up,
emits no span that is not a real exchange with its true status, and the spans
after the fault are exact."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from itlib.apps import CLIENT_COMM, SERVER_COMM, curl
from itlib.bpfobjs import map_keys, orphan_programs, percpu_sum
from itlib.collector import scrape
from itlib.load import Load, match_server_spans
from itlib.netstat import unread
from itlib.procs import STEP_TIMEOUT, free_port, handles_signal, now_us, wait_until, with_pid
from itlib.spans import check, for_port, of_kind, rows_for, server_row

LO = "127.0.0.1"
BURSTS = 5
REPORT = re.compile(r"sockspan: (\d+) spans; events: (\d+) captured, (\d+) lost \(ring buffer full\)")

# What a client sends before the server it talks to is killed: a head cut in
# two, a head whose body is cut, a whole request the server is still answering.
CUTS = {
    "head": b"GET /status/202 HTTP/1.1\r\nHost: x\r\n",
    "body": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"b" * 10,
    "answer": b"GET /sleep/60000 HTTP/1.1\r\nHost: x\r\n\r\n",
}


def report_of(ss):
    """(spans, events captured, events lost) from the exit report, which must be there."""
    m = REPORT.search(ss.stderr())
    assert m, f"no exit report:\n{ss.stderr()}"
    return tuple(int(g) for g in m.groups())


def cut_request(srv, cut):
    """A connection to srv carrying CUTS[cut], once srv has read all of it; still open."""
    s = socket.create_connection((srv.host, srv.port), timeout=STEP_TIMEOUT)
    s.sendall(CUTS[cut])
    lport = s.getsockname()[1]
    wait_until(lambda: unread(srv.pid, lport) == 0, STEP_TIMEOUT, f"the server to read the {cut} cut")
    return s


def kill(srv):
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait()


@pytest.mark.parametrize("cut", CUTS)
def test_server_killed_mid_request_then_its_successor(cut, sockspan, server, driver, pod_cgroup):
    """A traced server SIGKILLed while a request is half read or unanswered: no span for it,
    sockspan stays up, and the server started after it on the same port in the same cgroup
    (a container restarted in its pod) gets exact spans."""
    first = server()
    (pod_cgroup / "cgroup.procs").write_text(str(first.pid))
    with sockspan("--cgroup", pod_cgroup) as ss:
        t0 = now_us()
        [before] = curl(first.url("/status/201"))
        hanging = cut_request(first, cut)
        kill(first)
        assert hanging.recv(100) == b"", "the killed server's connection is still open"
        hanging.close()
        second = server(port=first.port)
        (pod_cgroup / "cgroup.procs").write_text(str(second.pid))
        d = driver()
        lport = d.connect(LO, second.port)
        exchanges = [("GET", "/status/200", 200), ("POST", "/echo", 200, 1000), ("GET", "/status/503", 503)]
        assert [r["status"] for r in d.requests([(m, p, *b) for m, p, _, *b in exchanges])] == [200, 200, 503]
        t1 = now_us()
        assert ss.proc.running(), ss.stderr()
    srv = (LO, first.port)
    want = [server_row("get /status/{id}", "/status/201", 201, SERVER_COMM, first.pid, srv, (LO, before["local_port"]))]
    want += rows_for("SERVER", exchanges, SERVER_COMM, second.pid, srv, (LO, lport))
    check(ss.spans, want, (t0, t1))


def test_killed_pid_leaves_the_filter(sockspan, server):
    """--pid A --pid B, A SIGKILLed mid-request: A's entry leaves the kernel's filter, B's
    stays, B's exchanges after it are exact and nothing comes of A's cut request."""
    a, b = server(), server()
    with sockspan("-p", a.pid, "-p", b.pid) as ss:
        assert map_keys(ss.proc.pid, "traced_tgids") == sorted([a.pid, b.pid])
        hanging = cut_request(a, "answer")
        kill(a)
        wait_until(lambda: map_keys(ss.proc.pid, "traced_tgids") == [b.pid], STEP_TIMEOUT,
                   "the killed pid to leave traced_tgids")
        hanging.close()
        t0 = now_us()
        [c] = curl(b.url("/status/202"))
        t1 = now_us()
    check(ss.spans, [server_row("get /status/{id}", "/status/202", 202, SERVER_COMM, b.pid, (LO, b.port),
                                (LO, c["local_port"]))], (t0, t1))


@pytest.mark.parametrize("idle", [0, 8], ids=["few pids, compared in line", "many pids, in the hash"])
def test_a_traced_pid_reused_after_exit_is_not_traced(idle, sockspan, server, driver):
    """--pid P, P exits, an unrelated process gets P (ns_last_pid): P left the kernel's
    filter, and the newcomer's exchanges, as a server and as a client, make no span.
    A's exchange is the control. With 8 idle processes traced too, the kernel looks
    the pids up in its hash instead of comparing them in line."""
    a, other = server(), server()
    victim = driver()
    pid = victim.pid
    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(idle)]
    extra = [arg for s in sleepers for arg in ("-p", s.pid)]
    try:
        run_reused_pid(sockspan, server, driver, a, other, victim, extra)
    finally:
        for s in sleepers:
            s.kill()
            s.wait()


def run_reused_pid(sockspan, server, driver, a, other, victim, extra):
    pid = victim.pid
    with sockspan("-p", pid, "-p", a.pid, *extra) as ss:
        victim.stop()
        wait_until(lambda: pid not in map_keys(ss.proc.pid, "traced_tgids"), STEP_TIMEOUT,
                   "the exited pid to leave traced_tgids")
        newcomer = with_pid(pid, server)
        curl(newcomer.url("/status/200"), newcomer.url("/status/503"))
        newcomer.stop()
        reused = with_pid(pid, driver)
        reused.connect(LO, other.port)
        reused.requests([("GET", "/status/200"), ("GET", "/status/404")])
        t0 = now_us()
        [c] = curl(a.url("/status/201"))
        t1 = now_us()
    check(ss.spans, [server_row("get /status/{id}", "/status/201", 201, SERVER_COMM, a.pid, (LO, a.port),
                                (LO, c["local_port"]))], (t0, t1))


def test_a_process_whose_main_thread_exits_stays_traced(sockspan, server):
    """--pid P where P's main thread ends (pthread_exit) and its other threads serve on:
    the process has not exited, so it stays in the filter and its exchanges keep their spans."""
    srv = server(leader_exits=True)
    with sockspan("-p", srv.pid) as ss:
        srv.end_leader()
        t0 = now_us()
        [c] = curl(srv.url("/status/202"))
        t1 = now_us()
        assert map_keys(ss.proc.pid, "traced_tgids") == [srv.pid]
    check(ss.spans, [server_row("get /status/{id}", "/status/202", 202, SERVER_COMM, srv.pid, (LO, srv.port),
                                (LO, c["local_port"]))], (t0, t1))


def test_fd_reused_for_another_server(sockspan, server, driver):
    """A traced client drops its connection to A with a request's answer unread and no
    close() sockspan could see, then its next socket gets the same fd, connected to B:
    each span has its own server's port, none of B's answers pairs with A's request."""
    a, b = server(), server()
    d = driver()
    with sockspan("-p", d.pid) as ss:
        t0 = now_us()
        lport_a = d.connect(LO, a.port)
        d.requests([("GET", "/status/201")])
        fd = d.abandon("GET", "/status/404")
        lport_b = d.connect(LO, b.port)
        assert d.fd == fd, "the next socket did not reuse the fd number"
        exchanges = [("GET", "/status/200", 200), ("GET", "/status/503", 503), ("GET", "/bytes/10", 200)]
        d.requests([(m, p) for m, p, _ in exchanges])
        t1 = now_us()
    check(for_port(ss.spans, a.port), rows_for("CLIENT", [("GET", "/status/201", 201)], CLIENT_COMM, d.pid,
                                               (LO, a.port), (LO, lport_a)), (t0, t1))
    check(for_port(ss.spans, b.port), rows_for("CLIENT", exchanges, CLIENT_COMM, d.pid, (LO, b.port),
                                               (LO, lport_b)), (t0, t1), sequential=True)
    assert len(ss.spans) == 4


def check_load_spans(ss, load, server, due, blocked_reads_missed=False):
    """Each span of ss is one of load's exchanges with its status, and every exchange made
    within due = (after, before) has one. blocked_reads_missed: but for the first one of
    each connection in due, whose read may have been blocked since before the attach."""
    matched = match_server_spans(of_kind(ss.spans, "SERVER"), load.exchanges, server)
    assert len(of_kind(ss.spans, "SERVER")) == len(ss.spans)
    due = [e for e in load.exchanges if due[0] < e.t0 and e.t1 < due[1]]
    if blocked_reads_missed:
        firsts = {}
        for e in due:
            firsts.setdefault(e.lport, e)
        due = [e for e in due if e not in firsts.values()]
    missing = [e for e in due if e not in matched]
    assert not missing, f"{len(missing)} exchanges without a span, e.g. {missing[:3]}"
    return matched


def test_restart_while_traffic_flows(sockspan, py_server):
    """Keep-alive connections carry requests without a pause while sockspan is stopped
    (SIGINT, exit 0 with its report) and another is started: each instance's spans are
    real exchanges with their status, and every exchange between its 'ready' and its
    stop, on those older connections, has its span. With the syscall tracepoints, a
    server thread blocked in recv() since before the attach has no entry record: the
    request that wakes it may come after 'ready' and is missed (README, Limits)."""
    with Load(py_server, conns=4) as load:
        load.answered_after(0, 20)
        runs = []
        for _ in range(2):
            ss = sockspan("-p", py_server.pid).start()
            ready = now_us()
            load.answered_after(ready, 100)
            stopping = now_us()
            ss.stop()
            runs.append((ss, ready, stopping))
    for ss, ready, stopping in runs:
        spans, _, lost = report_of(ss)
        assert (spans, lost) == (len(ss.spans), 0)
        check_load_spans(ss, load, py_server, (ready, stopping),
                         blocked_reads_missed="(syscall tracepoints)" in ss.stderr())


def caught_up(ss, load):
    """Wait (bounded) until sockspan has written the span of an exchange made now: it has
    read every event the kernel kept before it (the ring buffer is in order)."""
    ports = []

    def written():
        ports.append(load.once().lport)
        text = ss.out_file.read_text() if ss.out_file.exists() else ""
        return any(f'"port":{port}}}' in text for port in ports)

    wait_until(written, STEP_TIMEOUT, "sockspan to catch up", interval=0.2)


def test_ring_buffer_overflow_is_counted_and_later_spans_are_exact(sockspan, py_server):
    """A 1 MiB ring buffer, its reader stopped (SIGSTOP) while 6 connections ask for 64 kB
    bodies and send them: the kernel drops events and counts them (/metrics and the exit
    report). Spans during the burst may be missing, never wrong; once the reader is back,
    every exchange on those same connections has its exact span."""
    mport = free_port()
    ss = sockspan("-p", py_server.pid, "--ringbuf-mb", 1, "--metrics", f"{LO}:{mport}").start()
    with Load(py_server, conns=6) as load:
        load.answered_after(0, 30)
        for _ in range(BURSTS):
            ss.send(signal.SIGSTOP)
            load.answered_after(now_us(), 300)
            ss.send(signal.SIGCONT)
            load.answered_after(now_us(), 30)
        lost = scrape(mport)["sockspan_ringbuf_lost_events_total", {}]
        caught_up(ss, load)
        after = now_us()
        load.answered_after(after, 200)
        end = now_us()
    ss.stop()
    spans, _, reported = report_of(ss)
    assert reported >= lost > 0
    check_load_spans(ss, load, py_server, (after, end))


WAKEUPS = 4  # enum ss_counter's SS_CNT_WAKEUPS (include/sockspan_event.h)


def test_a_stopped_reader_is_woken_at_most_once_a_millisecond_per_cpu(sockspan, peers):
    """A 1 MiB ring buffer, its reader stopped (SIGSTOP), a traced process writing and
    reading 64 bytes 20,000 times over loopback: past a quarter of the buffer the kernel
    wakes the reader (an interrupt each), but at most once a millisecond per CPU, not at
    each of the thousands of events that fill the rest of it."""
    peer = peers()
    port = peer.listen()["port"]
    a = peer.connect(port=port)["fd"]
    b = peer.accept()["fd"]
    ss = sockspan("-p", peer.pid, "--ringbuf-mb", 1).start()
    ss.send(signal.SIGSTOP)
    try:
        before, t0 = percpu_sum(ss.proc.pid, "counters", WAKEUPS), time.monotonic()
        peer.pingpong(a=a, b=b, n=20000, size=64)
        woken, ms = percpu_sum(ss.proc.pid, "counters", WAKEUPS) - before, (time.monotonic() - t0) * 1000
    finally:
        ss.send(signal.SIGCONT)
    ss.stop()
    _, captured, lost = report_of(ss)
    # The buffer filled: thousands of events came after its first quarter.
    assert lost > 0 and captured > 3000, (captured, lost)
    assert 0 < woken <= os.cpu_count() * (ms + 1), (woken, ms)


def test_sigterm_under_load_flushes_and_exits_0(sockspan, py_server):
    """SIGTERM while 6 connections keep the server busy: exit 0, the report, an -o file of
    whole JSON lines (each a real exchange with its status), one per exchange before it."""
    ss = sockspan("-p", py_server.pid).start()
    ready = now_us()
    with Load(py_server, conns=6) as load:
        load.answered_after(ready, 200)
        sent = now_us()
        ss.stop(signal.SIGTERM)
    assert ss.out_file.read_text().endswith("}\n")
    spans, _, _ = report_of(ss)
    assert spans == len(ss.spans)
    check_load_spans(ss, load, py_server, (ready, sent))


@pytest.mark.parametrize("delay_ms", [0, 50, 200, 500])
def test_sigterm_during_the_attach(delay_ms, sockspan, py_server):
    """SIGTERM as soon as sockspan handles it, then later, into the attach: exit 0 with the
    report (never killed by the signal), and no program left loaded behind it."""
    ss = sockspan("-p", py_server.pid).launch()
    wait_until(lambda: handles_signal(ss.proc.pid, signal.SIGTERM) or not ss.proc.running(), STEP_TIMEOUT,
               "sockspan to handle SIGTERM", interval=0.001)
    time.sleep(delay_ms / 1000)
    ss.stop(signal.SIGTERM)
    report_of(ss)
    assert ss.spans == []
    wait_until(lambda: not orphan_programs(), STEP_TIMEOUT, "sockspan's programs to be unloaded")
