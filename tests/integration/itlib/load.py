"""Continuous keep-alive HTTP/1.1 traffic from threads of the test process (which
no test traces), every exchange recorded, and the check that each span a run
emitted is one of those exchanges with its true status.

    with Load(server, conns=4) as load:
        ...stop, start, signal sockspan...
    match_server_spans(spans, load.exchanges, server)
"""
import http.client
import threading
from collections import namedtuple

from .apps import SERVER_COMM
from .procs import STEP_TIMEOUT, Started, now_us, wait_until
from .spans import CLOCK_SLACK_US, row_of, rows_for
from .zipkin import contract_errors

# One exchange as the client saw it: its local port, the request, the status
# it got, and the wall-clock window around it (epoch µs).
Exchange = namedtuple("Exchange", "lport method path status t0 t1")


def routes(big):
    """What each connection asks in turn: neighbours differ in path and status, so a
    response paired with another request shows; big: bytes of the large bodies."""
    return [("GET", "/status/201", 201, 0), ("GET", f"/bytes/{big}", 200, 0), ("GET", "/status/404", 404, 0),
            ("POST", "/echo", 200, big), ("GET", "/status/503", 503, 0)]


class Load(Started):
    """conns threads, each with its keep-alive connection to server asking routes(big) in
    a loop until stop(); .exchanges grows as they are answered."""

    def __init__(self, server, conns=4, big=65536):
        self.server = server
        self.routes = routes(big)
        self.exchanges = []
        self.errors = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(conns)]

    def _connect(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=STEP_TIMEOUT)
        conn.connect()
        return conn

    def _exchange(self, conn, method, path, status, body):
        t0 = now_us()
        conn.request(method, path, body=b"b" * body if body else None)
        resp = conn.getresponse()
        resp.read()
        t1 = now_us()
        if resp.status != status:
            raise AssertionError(f"{method} {path} answered {resp.status}, not {status}")
        e = Exchange(conn.sock.getsockname()[1], method, path, status, t0, t1)
        with self._lock:
            self.exchanges.append(e)
        return e

    def _run(self):
        try:
            conn = self._connect()
            while not self._stop.is_set():
                for route in self.routes:
                    self._exchange(conn, *route)
            conn.close()
        except Exception as e:  # the test fails on it at stop()
            with self._lock:
                self.errors.append(repr(e))

    def once(self):
        """One more exchange (GET /status/202) on a connection of its own, from the
        calling thread; recorded like the others and returned."""
        conn = self._connect()
        try:
            return self._exchange(conn, "GET", "/status/202", 202, 0)
        finally:
            conn.close()

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def answered_after(self, t_us, n):
        """Wait (bounded) until n exchanges that began after t_us are answered."""
        wait_until(lambda: self.errors or sum(e.t0 > t_us for e in list(self.exchanges)) >= n,
                   STEP_TIMEOUT, f"{n} exchanges after {t_us}")
        assert not self.errors, self.errors

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(STEP_TIMEOUT)
            assert not t.is_alive(), "a load thread is stuck"
        assert not self.errors, self.errors
        return self

    def abort(self):
        self._stop.set()


def match_server_spans(spans, exchanges, server):
    """Every SERVER span for server (a PyServer) is one of the exchanges, exactly (kind,
    name, method, path, status, error, service, pid, endpoints) and within its time;
    none is matched twice (a connection asks the same thing again a few exchanges
    later: the nearest one not matched yet). Returns the set of exchanges matched."""
    matched = set()
    srv = (server.host, server.port)
    for s in spans:
        assert not contract_errors(s), f"{s}\n    -> {contract_errors(s)}"
        got = row_of(s)
        start, end = s["timestamp"], s["timestamp"] + s["duration"]
        candidates = [e for e in exchanges
                      if e not in matched and e.t0 - CLOCK_SLACK_US <= start and end <= e.t1 + CLOCK_SLACK_US
                      and rows_for("SERVER", [e[1:4]], SERVER_COMM, server.pid, srv, (server.host, e.lport))
                      == [got]]
        assert candidates, f"a span that is no exchange made, or one already matched: {s}"
        matched.add(min(candidates, key=lambda e: abs(e.t0 - start)))
    return matched
