#!/usr/bin/env python3
"""sockspan under mixed load with connection churn for a long time (make soak): is its
memory flat, and does every request still give its span?

Three servers, each traced by --pid: nginx (one worker, itlib/nginx.py), the gRPC server
(apps/grpc_server.py, demo.Echo/Say) and redis-server. By pid, not the whole node: the
machine is shared, and other processes' traffic would make both the memory figure and
the count of spans depend on whoever else runs; by pid, each request makes exactly one
SERVER span, so completeness is spans / requests, exactly. Every connection the servers
accept is opened and closed under sockspan's eyes, so the churn is the server side's.

Clients, in processes of their own, paced to SOAK_RATE requests/s per protocol (default
200) over SOAK_WORKERS threads each (default 4), every connection used for 1 to 8
requests and closed: HTTP/1.1 GETs (http.client), unary gRPC calls on a channel of its own
(grpcio, no shared subchannel), Redis SET/GET/INCR (redis-py, one connection each).

Every 10 s: sockspan's VmRSS and RssAnon, /metrics's heap (sockspan_heap_bytes), spans,
connections tracked and drops (ring buffer losses, connections evicted and shed, spans
dropped). Prints a row per minute, then the verdict: RSS and heap growth from the end of
the warm-up (the first 5 minutes, or a third of a shorter run) to the end, the slope per
hour over that stretch, the maxima, and spans / requests per protocol. Exits 1 when RSS
grew more than RSS_SLACK_MIB after the warm-up or a protocol is under 99.9% complete.

    SOAK_MINUTES=30 tests/bench/soak.py       (as root; make soak)
"""
import http.client
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from itlib.collector import scrape  # noqa: E402
from itlib.grpc_apps import GrpcServer  # noqa: E402
from itlib.nginx import Nginx  # noqa: E402
from itlib.procs import STEP_TIMEOUT, free_port, wait_until  # noqa: E402
from itlib.redis_env import RedisServer  # noqa: E402

BIN = Path(os.environ.get("SOCKSPAN_BIN", ROOT / "build" / "sockspan"))
MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
RATE = float(os.environ.get("SOAK_RATE", "200"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
SAMPLE_S = 10
# The allocator keeps up to 4 MiB free before it is trimmed (main.c's TRIM_SLACK_BYTES).
RSS_SLACK_MIB = 4.0
COMPLETE = 0.999
PER_CONNECTION = (1, 8)
MIB = 1 << 20


def http1_client(port):
    """One connection: returns a function doing one request on it, and its close."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=STEP_TIMEOUT)

    def one():
        c.request("GET", "/small.html")
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"nginx answered {r.status}")
    return one, c.close


def grpc_client(port):
    # A pool of its own: a new channel is a new connection, not a shared one.
    ch = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
    say = ch.unary_unary("/demo.Echo/Say")

    def one():
        if say(b"soak", timeout=STEP_TIMEOUT) != b"soak":
            raise RuntimeError("demo.Echo/Say did not echo")
    return one, ch.close


def redis_client(port):
    c = redis.Connection(host="127.0.0.1", port=port, socket_timeout=STEP_TIMEOUT)
    c.connect()
    cmds = [("SET", "soak", "1"), ("GET", "soak"), ("INCR", "soak:n")]

    def one():
        c.send_command(*random.choice(cmds))
        c.read_response()
    return one, c.disconnect


CLIENTS = {"http1": http1_client, "grpc": grpc_client, "redis": redis_client}
# Each protocol's label in sockspan_spans_total (gRPC is HTTP/2 there).
LABEL = {"http1": "http1", "grpc": "http2", "redis": "redis"}


def load(proto, port, done, failed, stop):
    """A client process: WORKERS threads, each paced to RATE / WORKERS requests/s, opening
    a connection for 1 to 8 requests at a time, until stop is set."""
    interval = WORKERS / RATE
    lock = threading.Lock()

    def worker():
        rng = random.Random()
        due = time.monotonic()
        while not stop.is_set():
            one, close = None, None
            try:
                one, close = CLIENTS[proto](port)
                for _ in range(rng.randint(*PER_CONNECTION)):
                    due += interval
                    time.sleep(max(0.0, due - time.monotonic()))
                    one()
                    with lock:
                        done.value += 1
                    if stop.is_set():
                        break
            except Exception:  # counted: a failed request makes no span to expect
                with lock:
                    failed.value += 1
            finally:
                if close:
                    close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for pid {pid}")


def sample(pid, mport, t0, requests):
    m = scrape(mport)
    spans = {p: m.get("sockspan_spans_total", {"protocol": LABEL[p], "kind": "SERVER"}) for p in CLIENTS}
    drops = (m["sockspan_ringbuf_lost_events_total"] + m["sockspan_connections_evicted_total"] +
             m["sockspan_connections_shed_total"] +
             sum(v for (name, _), v in m.samples.items() if name == "sockspan_spans_dropped_total"))
    return {"t": time.monotonic() - t0, "rss": status_kib(pid, "VmRSS") * 1024,
            "anon": status_kib(pid, "RssAnon") * 1024, "heap": m["sockspan_heap_bytes"],
            "conns": m["sockspan_connections"], "drops": drops, "spans": spans,
            "requests": {p: v.value for p, v in requests.items()}}


def slope_per_hour(points):
    """Least squares slope of (seconds, bytes) points, in MiB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / den * 3600 / MIB if den else 0.0


def row(s):
    return (f"{s['t'] / 60:6.1f}  {s['rss'] / MIB:8.1f}  {s['anon'] / MIB:8.1f}  {s['heap'] / MIB:8.1f}  "
            f"{sum(s['spans'].values()):10.0f}  {sum(s['requests'].values()):10d}  {s['conns']:6.0f}  "
            f"{s['drops']:6.0f}")


def verdict(samples, final):
    warm_s = min(5 * 60, MINUTES * 60 / 3)
    after = [s for s in samples if s["t"] >= warm_s]
    start, end = after[0], samples[-1]
    ok = True
    print(f"\nwarm-up: the first {warm_s / 60:.1f} min; after it ({start['t'] / 60:.1f} -> {end['t'] / 60:.1f} min):")
    for key, what in (("rss", "RSS"), ("anon", "RssAnon"), ("heap", "heap")):
        grew = (end[key] - start[key]) / MIB
        print(f"  {what:8} {start[key] / MIB:7.1f} -> {end[key] / MIB:7.1f} MiB ({grew:+.1f} MiB, "
              f"{slope_per_hour([(s['t'], s[key]) for s in after]):+.1f} MiB/h), "
              f"max {max(s[key] for s in samples) / MIB:.1f} MiB")
    rss_grew = (end["rss"] - start["rss"]) / MIB
    peak = status_kib(final["pid"], "VmHWM") / 1024
    print(f"  peak RSS (VmHWM) {peak:.1f} MiB")
    if rss_grew > RSS_SLACK_MIB:
        ok = False
    print(f"  RSS: {'flat' if rss_grew <= RSS_SLACK_MIB else 'GROWS'} (limit +{RSS_SLACK_MIB:.0f} MiB, "
          "the allocator's untrimmed slack)")
    print("completeness (SERVER spans / requests answered):")
    for p in CLIENTS:
        req, spans = final["requests"][p], final["spans"][p]
        ratio = spans / req if req else 0.0
        ok &= ratio >= COMPLETE and spans <= req
        print(f"  {p:6} {spans:10.0f} / {req:10d} = {ratio:.5f}  ({final['failed'][p]} requests failed)")
    print(f"drops: {final['drops']:.0f}; verdict: {'PASS' if ok else 'FAIL'}")
    return ok


def main():
    if os.geteuid() != 0:
        raise SystemExit("soak.py needs root (sockspan loads BPF programs)")
    servers = {"http1": Nginx(), "grpc": GrpcServer(), "redis": RedisServer()}
    pids = {"http1": servers["http1"].worker_pid, "grpc": servers["grpc"].pid, "redis": servers["redis"].pid}
    mport = free_port()
    argv = [BIN, "-o", "/dev/null", "--metrics", f"127.0.0.1:{mport}"]
    for pid in pids.values():
        argv += ["-p", str(pid)]
    ss = subprocess.Popen([str(a) for a in argv], stderr=subprocess.PIPE, text=True)
    lines = []

    def drain():
        for line in ss.stderr:
            lines.append(line)
    threading.Thread(target=drain, daemon=True).start()
    wait_until(lambda: any("ready" in line for line in lines) or ss.poll() is not None, STEP_TIMEOUT,
               "sockspan to be ready")
    if ss.poll() is not None:
        raise SystemExit(f"sockspan exited with {ss.returncode}: {''.join(lines)}")
    print(f"sockspan -p {' -p '.join(map(str, pids.values()))} (nginx worker, grpc server, redis-server); "
          f"{MINUTES:g} min, {RATE:g} req/s per protocol over {WORKERS} workers, {PER_CONNECTION[0]}-"
          f"{PER_CONNECTION[1]} requests per connection", flush=True)
    stop = multiprocessing.Event()
    done = {p: multiprocessing.Value("Q", 0) for p in CLIENTS}
    failed = {p: multiprocessing.Value("Q", 0) for p in CLIENTS}
    ports = {"http1": servers["http1"].port, "grpc": servers["grpc"].port, "redis": servers["redis"].port}
    # Forked before grpcio starts any thread in this process.
    loaders = [multiprocessing.Process(target=load, args=(p, ports[p], done[p], failed[p], stop)) for p in CLIENTS]
    t0 = time.monotonic()
    for lp in loaders:
        lp.start()
    print(f"\n{'min':>6}  {'RSS MiB':>8}  {'anon MiB':>8}  {'heap MiB':>8}  {'spans':>10}  {'requests':>10}  "
          f"{'conns':>6}  {'drops':>6}", flush=True)
    samples, minute = [], 1
    try:
        while time.monotonic() - t0 < MINUTES * 60:
            time.sleep(max(0.0, SAMPLE_S * (len(samples) + 1) - (time.monotonic() - t0)))
            samples.append(sample(ss.pid, mport, t0, done))
            if samples[-1]["t"] >= minute * 60 - 1:
                print(row(samples[-1]), flush=True)
                minute += 1
    finally:
        stop.set()
        for lp in loaders:
            lp.join(STEP_TIMEOUT)
    # Spans held for a join go out within a second.
    time.sleep(2)
    final = sample(ss.pid, mport, t0, done)
    final.update(pid=ss.pid, failed={p: v.value for p, v in failed.items()})
    ok = verdict(samples, final)
    ss.send_signal(signal.SIGINT)
    ss.wait(STEP_TIMEOUT)
    time.sleep(0.2)
    # Its exit report: the counters.
    print("".join(lines[next(i for i, line in enumerate(lines) if "ready" in line) + 1:]), end="")
    for s in servers.values():
        s.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
