#!/usr/bin/env python3
"""Records the event streams that bench_replay and test_replay read, from real peers on
loopback, both ends traced (make record-data, as root, after make):

    http1.ssev.gz      h2load --h1 -n 2000 -c 4 against nginx (one worker, a small page)
    h2.ssev.gz         h2load -n 2000 -c 4 -m 8 against nghttpd (h2c, prior knowledge)
    grpc.ssev.gz       1000 unary calls from python3-grpcio to tests/integration/apps/grpc_server.py
    redis.ssev.gz      redis-benchmark -n 2000 -c 4 -P 1 -t set,get
    redis_p16.ssev.gz  redis-benchmark -n 2000 -c 4 -P 16 -t set,get

into tests/data/events/. The client runs as `sh -c 'read _; exec CLIENT'`: its pid is known, and
traced, before it sends a byte.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from itlib.h2 import Nghttpd  # noqa: E402
from itlib.nginx import Nginx  # noqa: E402
from itlib.redis_env import RedisServer  # noqa: E402

RECORDER = ROOT / "build" / "bench" / "record_events"
DATA = ROOT / "tests" / "data" / "events"
PYTHON = "/usr/bin/python3"
N = 2000
GRPC_CALLS = 1000
GRPC_CLIENT = """
import sys, grpc
say = grpc.insecure_channel(sys.argv[1]).unary_unary("/demo.Echo/Say")
for i in range(int(sys.argv[2])):
    assert say(b"hello %d" % i) == b"hello %d" % i
"""


def record(out, server_pid, client_argv):
    client = subprocess.Popen(["sh", "-c", 'read _; exec "$@"', "client", *client_argv],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rec = subprocess.Popen([RECORDER, out, str(server_pid), str(client.pid)], stderr=subprocess.PIPE, text=True)
    if rec.stderr.readline().strip() != "ready":
        client.kill()
        raise SystemExit(f"record_events did not start: {rec.communicate()[1]}")
    client.communicate(b"\n", timeout=120)
    if client.returncode != 0:
        rec.terminate()
        raise SystemExit(f"{client_argv[0]} failed ({client.returncode})")
    rec.send_signal(2)
    _, err = rec.communicate(timeout=30)
    if rec.returncode != 0:
        raise SystemExit(f"record_events failed: {err}")
    print(f"{out.name}: {err.strip()}")


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    nginx = Nginx()
    try:
        record(DATA / "http1.ssev.gz", nginx.worker_pid,
               ["h2load", "--h1", "-n", str(N), "-c", "4", nginx.url("/small.html")])
    finally:
        nginx.stop()
    h2 = Nghttpd()
    try:
        record(DATA / "h2.ssev.gz", h2.pid, ["h2load", "-n", str(N), "-c", "4", "-m", "8", h2.url("/a.txt")])
    finally:
        h2.stop()
    grpc_server = subprocess.Popen([PYTHON, ROOT / "tests" / "integration" / "apps" / "grpc_server.py"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = grpc_server.stdout.readline().split()[1]
        record(DATA / "grpc.ssev.gz", grpc_server.pid,
               [PYTHON, "-c", GRPC_CLIENT, f"127.0.0.1:{port}", str(GRPC_CALLS)])
    finally:
        grpc_server.kill()
        grpc_server.wait()
    redis = RedisServer()
    try:
        for name, pipeline in (("redis", "1"), ("redis_p16", "16")):
            record(DATA / f"{name}.ssev.gz", redis.pid,
                   ["redis-benchmark", "-p", str(redis.port), "-n", str(N), "-c", "4", "-P", pipeline,
                    "-t", "set,get", "-q"])
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
