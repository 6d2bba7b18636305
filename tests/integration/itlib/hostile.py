"""What the hostile-traffic tests (test_hostile*.py) share: sockspan under a memory
budget with /metrics, its peak RSS and CPU time read from /proc, and raw sockets of
this process (never traced) that send what a hostile peer would.

    with Budgeted(sockspan, "-p", pid) as agent:   # adds --memory-limit, --metrics
        agent.scrape()                             # itlib.collector.Metrics
        agent.settle("sockspan_...", {...}, n)     # waits for a counter to reach n
    agent.spans                                    # after the block: what it emitted
    agent.check_peak()                             # VmHWM <= RSS at ready + the budget

The fixed overhead beside the budget is sockspan's RSS once ready, before any
traffic: the ring buffer mapped twice (2 x --ringbuf-mb, resident from the start:
64 MiB by default), the program and its libraries (~10 MB) and the heap at start
(~3 MB). What traffic adds is heap, which --memory-limit bounds.
"""
import os
import socket
from pathlib import Path

from .collector import scrape
from .procs import STEP_TIMEOUT, free_port, log, wait_until

LO = "127.0.0.1"
LIMIT_MB = 16


def status_bytes(pid, field):
    """A size from /proc/PID/status (VmRSS, VmHWM...), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) << 10
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def cpu_seconds(pid):
    """User + system CPU time of pid so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Budgeted:
    """A sockspan run with --memory-limit limit_mb and /metrics on a free port."""

    def __init__(self, sockspan, *args, limit_mb=LIMIT_MB):
        self.limit = limit_mb << 20
        self.mport = free_port()
        self.run = sockspan(*args, "--memory-limit", limit_mb, "--metrics", f"{LO}:{self.mport}")
        self.pid = self.base = self.peak = None

    def __enter__(self):
        self.run.start()
        self.pid = self.run.proc.pid
        self.base = status_bytes(self.pid, "VmRSS")
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.run.proc.running():
            self.peak = status_bytes(self.pid, "VmHWM")
        return self.run.__exit__(exc_type, exc, tb)

    @property
    def spans(self):
        return self.run.spans

    def scrape(self):
        return scrape(self.mport)

    def counter(self, name, labels=None):
        return self.scrape()[name, labels or {}]

    def settle(self, name, labels, value):
        """Waits (bounded) until the counter reads value: events are handled after the syscalls."""
        wait_until(lambda: self.counter(name, labels) == value, STEP_TIMEOUT,
                   f"{name}{labels} == {value} (last {self.counter(name, labels)})")

    def cpu_seconds(self):
        return cpu_seconds(self.pid)

    def check_peak(self):
        """sockspan's peak RSS stayed within the budget plus what it held once ready."""
        mib = 1 << 20
        log(f"sockspan RSS at ready {self.base / mib:.1f} MiB, peak {self.peak / mib:.1f} MiB, "
            f"budget {self.limit / mib:.0f} MiB")
        assert self.peak <= self.base + self.limit, (
            f"peak RSS {self.peak / mib:.1f} MiB > {self.base / mib:.1f} MiB at ready "
            f"+ {self.limit / mib:.0f} MiB of budget")


def request(path):
    """A GET with nothing but Host."""
    return f"GET {path} HTTP/1.1\r\nHost: {LO}\r\n\r\n".encode()


def read_response(sock):
    """One response with Content-Length, read exactly; returns its bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "server closed the connection mid-response"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    assert len(body) == length, "more bytes than one response"
    return data[:len(head) + 4] + body


def connect(port, n=1):
    """n connections to port on loopback, Nagle off so each send() leaves at once."""
    socks = []
    for _ in range(n):
        s = socket.create_connection((LO, port), timeout=STEP_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    return socks


def local_port(s):
    return s.getsockname()[1]


def close_all(socks):
    for s in socks:
        s.close()
