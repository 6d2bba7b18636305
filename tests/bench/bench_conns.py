#!/usr/bin/env python3
"""sockspan's memory with many connections (make bench): a traced keep-alive HTTP/1.1 server
(an asyncio one, in its own process) gets N connections with one request each, left open,
then churn rounds of N connections opened, used once and closed. Prints sockspan's RSS and
its anonymous part (RssAnon: the heap; RSS also counts the ring buffer, mapped twice) at
start, with the N open (and the bytes per connection that adds), after the churn, and the
peak RSS (VmHWM).

    bench_conns.py [N] [ROUNDS]     default 10000 connections, 10 churn rounds
"""
import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} for pid {pid}")


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
    ss = subprocess.Popen([BIN, "-p", str(server.pid), "-o", "/dev/null"], stderr=subprocess.PIPE, text=True)
    try:
        if "ready" not in ss.stderr.readline():
            raise SystemExit("sockspan did not start")
        time.sleep(1)
        rss0, anon0 = status_kib(ss.pid, "VmRSS"), status_kib(ss.pid, "RssAnon")
        loop = asyncio.new_event_loop()
        kept = loop.run_until_complete(connections(port, n, keep=True))
        time.sleep(2)  # the events of the last ones reach sockspan
        rss_open, anon_open = status_kib(ss.pid, "VmRSS"), status_kib(ss.pid, "RssAnon")
        for w in kept:
            w.close()
        for _ in range(rounds):
            loop.run_until_complete(connections(port, n, keep=None))
        time.sleep(2)
        rss_churn, anon_churn = status_kib(ss.pid, "VmRSS"), status_kib(ss.pid, "RssAnon")
        hwm = status_kib(ss.pid, "VmHWM")
    finally:
        ss.send_signal(signal.SIGINT)
        ss.wait(30)
        server.kill()
        server.wait()
    print(f"sockspan memory, {n} keep-alive HTTP/1.1 connections to a traced server, then {rounds} rounds "
          f"of {n} opened, used once and closed")
    print(f"{'':<28}{'RSS':>9}     {'RssAnon':>9}")
    print(f"{'at start':<28}{rss0 / 1024:9.1f} MiB {anon0 / 1024:9.1f} MiB")
    print(f"{'with them open':<28}{rss_open / 1024:9.1f} MiB {anon_open / 1024:9.1f} MiB   "
          f"{(anon_open - anon0) * 1024 / n:7.0f} bytes per connection")
    print(f"{'after the churn':<28}{rss_churn / 1024:9.1f} MiB {anon_churn / 1024:9.1f} MiB")
    print(f"{'peak RSS (VmHWM)':<28}{hwm / 1024:9.1f} MiB")

if __name__ == "__main__":
    main()
