#!/usr/bin/env python3
"""sockspan's memory with many connections (make bench): a traced keep-alive HTTP/1.1 server
(an asyncio one, in its own process) gets N connections with one request each, left open,
then churn rounds of N connections opened, used once and closed. Prints, at start, with the
N open (and the bytes per connection that adds) and after the churn:
  RSS      what the kernel counts, the ring buffer twice (it is mapped twice for reads that wrap)
  Pss      the ring buffer once: the memory sockspan really holds
  RssAnon  the heap's pages
  heap     malloc's bytes in use (sockspan_heap_bytes on /metrics, what --memory-limit holds):
           below RssAnon by the allocator's overhead and fragmentation
and the peaks, sampled every 0.1 s (RSS also from VmHWM, which the kernel updates lazily).

    bench_conns.py [N] [ROUNDS]     default 10000 connections, 10 churn rounds
"""
import asyncio
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from itlib.collector import scrape  # noqa: E402
from itlib.procs import free_port  # noqa: E402

BIN = ROOT / "build" / "sockspan"
PYTHON = "/usr/bin/python3"
SERVER = r'''
import asyncio, resource, sys
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
async def serve(r, w):
    try:
        while await r.readuntil(b"\r\n\r\n"):
            w.write(BODY)
            await w.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    w.close()
async def main():
    s = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=4096)
    print(s.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
'''
REQUEST = b"GET /c HTTP/1.1\r\nHost: bench\r\n\r\n"


def kib(path, field):
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} in {path}")


class Memory:
    """sockspan's memory now (MiB), and the peaks a sampler saw."""

    def __init__(self, pid, metrics_port):
        self.pid, self.port = pid, metrics_port
        self.peak = {"RSS": 0, "Pss": 0, "RssAnon": 0}
        self.done = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _rss(self):
        status = f"/proc/{self.pid}/status"
        return {"RSS": kib(status, "VmRSS") / 1024, "Pss": kib(f"/proc/{self.pid}/smaps_rollup", "Pss") / 1024,
                "RssAnon": kib(status, "RssAnon") / 1024}

    def _sample(self):
        while not self.done.wait(0.1):
            for k, v in self._rss().items():
                self.peak[k] = max(self.peak[k], v)

    def now(self):
        return self._rss() | {"heap": scrape(self.port)["sockspan_heap_bytes"] / 2**20}

    def stop(self):
        self.done.set()
        self.sampler.join()
        self.peak["RSS"] = max(self.peak["RSS"], kib(f"/proc/{self.pid}/status", "VmHWM") / 1024)
        return self.peak


async def one(port, keep):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(REQUEST)
    await w.drain()
    await r.readexactly(len(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    if keep is None:
        w.close()
        return None
    return w


async def connections(port, n, keep, batch=500):
    out = []
    for i in range(0, n, batch):
        out += await asyncio.gather(*(one(port, keep) for _ in range(min(batch, n - i))))
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < n + 100:
        raise SystemExit(f"{n} connections need more than the {hard} files this process may open")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = subprocess.Popen([PYTHON, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    metrics_port = free_port()
    ss = subprocess.Popen([BIN, "-p", str(server.pid), "-o", "/dev/null", "--metrics", str(metrics_port)],
                          stderr=subprocess.PIPE, text=True)
    try:
        # Lines may come first (the capabilities kept after attach, libbpf's warnings).
        line = " "
        while line and "ready" not in line:
            line = ss.stderr.readline()
        if not line:
            raise SystemExit("sockspan did not start")
        time.sleep(1)
        mem = Memory(ss.pid, metrics_port)
        start = mem.now()
        loop = asyncio.new_event_loop()
        kept = loop.run_until_complete(connections(port, n, keep=True))
        time.sleep(2)  # the events of the last ones reach sockspan, which trims what they left
        opened = mem.now()
        for w in kept:
            w.close()
        for _ in range(rounds):
            loop.run_until_complete(connections(port, n, keep=None))
        time.sleep(2)
        churned = mem.now()
        peak = mem.stop()
    finally:
        ss.send_signal(signal.SIGINT)
        ss.wait(30)
        server.kill()
        server.wait()
    cols = ("RSS", "Pss", "RssAnon", "heap")
    print(f"sockspan memory, {n} keep-alive HTTP/1.1 connections to a traced server, then {rounds} rounds "
          f"of {n} opened, used once and closed (MiB)")
    print(f"{'':<20}" + "".join(f"{c:>10}" for c in cols))
    for name, m in (("at start", start), ("with them open", opened), ("after the churn", churned)):
        print(f"{name:<20}" + "".join(f"{m[c]:10.1f}" for c in cols))
    print(f"{'peak':<20}" + "".join(f"{peak[c]:10.1f}" for c in cols[:3]))
    print(f"per open connection: {(opened['RssAnon'] - start['RssAnon']) * 2**20 / n:.0f} bytes of RssAnon, "
          f"{(opened['heap'] - start['heap']) * 2**20 / n:.0f} bytes of heap in use")


if __name__ == "__main__":
    main()
