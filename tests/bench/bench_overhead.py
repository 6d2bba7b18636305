"""What tracing costs an HTTP/1 server, measured side by side in one run.

nginx (sendfile on, one worker) serves a small page to wrk over keep-alive
connections on loopback: untraced, then for each capture path (the socket
hooks, where the kernel has them, and the syscall tracepoints): with another,
idle process traced (nginx and wrk pay only the in-kernel filter), with the
nginx worker traced (--pid), and with the whole node traced. For each it
prints requests/s and p99 latency against the untraced run, sockspan's own
CPU time per request (user + system, from /proc), and the kernel side's cost
per request measured by the kernel itself (kernel.bpf_stats_enabled: run time
of every sockspan program; it leaves out the tracepoints' dispatch, which the
throughput ratios include). The phases alternate ROUNDS times and the medians
are reported, since this machine is shared and noisy.

Run: make bench   (root; builds sockspan and installs wrk if missing)
"""
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from itlib.nginx import Nginx  # noqa: E402

SOCKSPAN = ROOT / "build" / "sockspan"
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNS = 8
# Both capture paths: the socket hooks (Linux >= 6.4) and the syscall tracepoints.
HOOKS = ("socket", "syscalls")


def ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(url):
    """(requests, requests/s, p99 latency in ms)."""
    out = subprocess.run(["wrk", "-t1", f"-c{CONNS}", f"-d{SECONDS}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = ms(*re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups())
    return reqs, rps, p99


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def bpf_prog_ns():
    """Total run time and count of sockspan's BPF programs (loaded now)."""
    out = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True, check=True).stdout
    total = 0
    for m in re.finditer(r"name (?:sys_(?:enter|exit)_\w+|sock_\w+|handle_\w+).*?run_time_ns (\d+) run_cnt (\d+)", out):
        total += int(m.group(1))
    return total


def traced_run(args, url):
    proc = subprocess.Popen([str(SOCKSPAN), "-o", "/dev/null", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    while not seen or "ready" not in seen[-1]:  # libbpf may warn first
        seen.append(proc.stderr.readline())
        if not seen[-1]:
            raise SystemExit("sockspan did not start:\n" + "".join(seen))
    cpu0, ns0 = cpu_seconds(proc.pid), bpf_prog_ns()
    reqs, rps, p99 = wrk(url)
    cpu1, ns1 = cpu_seconds(proc.pid), bpf_prog_ns()
    proc.send_signal(2)
    err = proc.communicate(timeout=30)[1]
    spans = int(re.search(r"(\d+) spans", err).group(1))
    return {"rps": rps, "p99": p99, "user_us": (cpu1 - cpu0) * 1e6 / reqs,
            "kernel_us": (ns1 - ns0) / 1e3 / reqs, "spans_per_req": spans / reqs}


def main():
    if not SOCKSPAN.exists():
        raise SystemExit("build/sockspan is missing: run make first")
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    nginx = Nginx()
    idle = subprocess.Popen(["sleep", "3600"])  # the other process traced in "filter only"
    url = nginx.url("/small.html")
    modes = {"filter only": ["--pid", str(idle.pid)], "--pid worker": ["--pid", str(nginx.worker_pid)],
             "whole node": []}
    phases = {("-", "untraced"): []}
    phases.update({(hooks, mode): [] for hooks in HOOKS for mode in modes})
    try:
        wrk(url)  # warm-up
        for _ in range(ROUNDS):
            _, rps, p99 = wrk(url)
            phases["-", "untraced"].append({"rps": rps, "p99": p99})
            for hooks in HOOKS:
                for mode, args in modes.items():
                    phases[hooks, mode].append(traced_run(["--hooks", hooks, *args], url))
    finally:
        idle.kill()
        nginx.stop()
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)

    base = statistics.median(r["rps"] for r in phases["-", "untraced"])
    base_p99 = statistics.median(r["p99"] for r in phases["-", "untraced"])
    print(f"nginx small page, wrk -t1 -c{CONNS}, {SECONDS}s x {ROUNDS} rounds, medians")
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
        print(row)


if __name__ == "__main__":
    main()
