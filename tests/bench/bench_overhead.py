"""What tracing costs a server, measured side by side in one run.

Three servers under their usual load generators, each on loopback:
  HTTP/1   nginx (sendfile on, one worker), small page, wrk -t1 -c8, keep-alive
           and with a new connection per request (Connection: close)
  HTTP/2   nghttpd (h2c, prior knowledge), small file, h2load -c8 -m10
  Redis    redis-server, GET, redis-benchmark -c8, -P 1 and -P 16
each untraced, then for each capture path (the socket hooks, where the kernel
has them, and the syscall tracepoints): with another, idle process traced
(server and client pay only the in-kernel filter), with the server traced
(--pid), and with the whole node traced. For each it prints requests/s and
p99 latency against the untraced run, sockspan's own CPU time per request
(user + system, from /proc), the kernel side's cost per request measured by
the kernel itself (kernel.bpf_stats_enabled: run time of every sockspan
program; it leaves out the tracepoints' dispatch, which the throughput ratios
include) and spans per request. The phases alternate ROUNDS (5) times and the
medians are reported, since this machine is shared and noisy. sockspan runs
with --nice 19: its default where it can raise RLIMIT_NICE (root with
CAP_SYS_RESOURCE, the DaemonSet); asked for, it also works where it cannot.

Run: make bench   (root; builds sockspan; make deps installs the peers)
     BENCH_LOADS=http1,redis-p16 picks loads; BENCH_SECONDS, BENCH_ROUNDS
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from itlib.h2 import H2LOAD, Nghttpd  # noqa: E402
from itlib.nginx import Nginx  # noqa: E402
from itlib.redis_env import RedisServer  # noqa: E402

SOCKSPAN = ROOT / "build" / "sockspan"
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONNS = 8
# Both capture paths: the socket hooks (Linux >= 6.4) and the syscall tracepoints.
HOOKS = ("socket", "syscalls")


def ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run(argv):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=True).stdout


class Http1:
    title = f"HTTP/1.1: nginx small page, wrk -t1 -c{CONNS}"

    def __init__(self):
        self.server = Nginx()
        self.pid = self.server.worker_pid
        self.url = self.server.url("/small.html")

    headers = []

    def load(self):
        """(requests, requests/s, p99 latency in ms)."""
        out = run(["wrk", "-t1", f"-c{CONNS}", f"-d{SECONDS}s", "--latency", *self.headers, self.url])
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = ms(*re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups())
        return reqs, rps, p99


class Http1Close(Http1):
    """A new connection per request: what connections cost, traced or not."""
    title = f"HTTP/1.1 Connection: close: nginx small page, wrk -t1 -c{CONNS}"
    headers = ["-H", "Connection: close"]


class Http2:
    title = f"HTTP/2: nghttpd small file, h2load -c{CONNS} -m10"

    def __init__(self):
        self.server = Nghttpd()
        self.pid = self.server.pid
        self.url = self.server.url("/a.txt")

    def load(self):
        # h2load prints no percentiles: its per-request log has each latency.
        with tempfile.NamedTemporaryFile(prefix="sockspan-bench-h2load-") as log:
            out = run([H2LOAD, "-D", SECONDS, "-c", CONNS, "-m", 10, "--log-file", log.name, self.url])
            lat = sorted(int(line.split("\t")[2]) for line in Path(log.name).read_text().splitlines())
        done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
        rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
        return done, rps, lat[int(len(lat) * 0.99)] / 1e3


class Redis:
    def __init__(self, pipeline):
        self.title = f"Redis: redis-server GET, redis-benchmark -c{CONNS} -P {pipeline}"
        self.pipeline = pipeline
        self.server = RedisServer()
        self.pid = self.server.pid
        self.count = None

    def load(self):
        # redis-benchmark runs a count, not a time: the first (untraced) run sizes it.
        n = self.count or 100_000 * self.pipeline
        out = run(["redis-benchmark", "-p", self.server.port, "-t", "get", "-c", CONNS, "-n", n,
                   "-P", self.pipeline, "--csv"])
        row = out.strip().splitlines()[-1].replace('"', "").split(",")
        rps, p99 = float(row[1]), float(row[6])
        if self.count is None:
            self.count = max(10_000, int(rps * SECONDS))
        return n, rps, p99


LOADS = {"http1": Http1, "http1-close": Http1Close, "http2": Http2, "redis": lambda: Redis(1),
         "redis-p16": lambda: Redis(16)}


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def bpf_prog_ns():
    """Total run time of sockspan's BPF programs (loaded now)."""
    out = run(["bpftool", "prog", "show"])
    total = 0
    for m in re.finditer(r"name (?:sys_(?:enter|exit)_\w+|sock_\w+|handle_\w+).*?run_time_ns (\d+) run_cnt (\d+)", out):
        total += int(m.group(1))
    return total


def traced_run(args, load):
    proc = subprocess.Popen([str(SOCKSPAN), "-o", "/dev/null", "--nice", "19", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    while not seen or "ready" not in seen[-1]:  # libbpf may warn first
        seen.append(proc.stderr.readline())
        if not seen[-1]:
            raise SystemExit("sockspan did not start:\n" + "".join(seen))
    cpu0, ns0 = cpu_seconds(proc.pid), bpf_prog_ns()
    reqs, rps, p99 = load()
    cpu1, ns1 = cpu_seconds(proc.pid), bpf_prog_ns()
    proc.send_signal(2)
    err = proc.communicate(timeout=30)[1]
    spans = int(re.search(r"(\d+) spans", err).group(1))
    return {"rps": rps, "p99": p99, "user_us": (cpu1 - cpu0) * 1e6 / reqs,
            "kernel_us": (ns1 - ns0) / 1e3 / reqs, "spans_per_req": spans / reqs}


def measure(bench, idle_pid):
    modes = {"filter only": ["--pid", str(idle_pid)], "--pid server": ["--pid", str(bench.pid)],
             "whole node": []}
    phases = {("-", "untraced"): []}
    phases.update({(hooks, mode): [] for hooks in HOOKS for mode in modes})
    bench.load()  # warm-up (and sizes count-based loads)
    for _ in range(ROUNDS):
        _, rps, p99 = bench.load()
        phases["-", "untraced"].append({"rps": rps, "p99": p99})
        for hooks in HOOKS:
            for mode, args in modes.items():
                phases[hooks, mode].append(traced_run(["--hooks", hooks, *args], bench.load))
    return phases


def report(title, phases):
    base = statistics.median(r["rps"] for r in phases["-", "untraced"])
    base_p99 = statistics.median(r["p99"] for r in phases["-", "untraced"])
    print(f"{title}, {SECONDS}s x {ROUNDS} rounds, medians")
    print(f"{'hooks':<9} {'mode':<13} {'req/s':>8} {'vs untraced':>12} {'p99 ms':>7} {'p99 vs':>7} "
          f"{'sockspan CPU/req':>17} {'BPF/req':>9} {'spans/req':>10}")
    for (hooks, name), runs in phases.items():
        rps = statistics.median(r["rps"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        row = f"{hooks:<9} {name:<13} {rps:>8.0f} {rps / base:>12.3f} {p99:>7.2f} {p99 / base_p99:>7.2f}"
        if "user_us" in runs[0]:
            row += (f" {statistics.median(r['user_us'] for r in runs):>14.2f} us"
                    f" {statistics.median(r['kernel_us'] for r in runs):>6.2f} us"
                    f" {statistics.median(r['spans_per_req'] for r in runs):>10.3f}")
        print(row, flush=True)
    print()


def main():
    if not SOCKSPAN.exists():
        raise SystemExit("build/sockspan is missing: run make first")
    names = os.environ.get("BENCH_LOADS", ",".join(LOADS)).split(",")
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    idle = subprocess.Popen(["sleep", "3600"])  # the other process traced in "filter only"
    try:
        for name in names:
            bench = LOADS[name]()
            try:
                phases = measure(bench, idle.pid)
            finally:
                bench.server.stop()
            report(bench.title, phases)
    finally:
        idle.kill()
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)


if __name__ == "__main__":
    main()
