"""Command line: help, version, rejected options, --duration, and the three output modes."""
import datetime
import os
import re
import signal
import subprocess

import pytest

from itlib.apps import SERVER_COMM, curl
from itlib.procs import STEP_TIMEOUT, now_us, wait_until
from itlib.sockspan import run_cli
from itlib.spans import CLOCK_SLACK_US, check, server_row

LO = "127.0.0.1"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
# The documented readable line:
# "2026-11-21T22:45:47.123456Z python3 SERVER get /users/{id} 200 1.234ms <32-hex trace id>"
TEXT_LINE = re.compile(r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z (?P<service>\S+) "
                       r"(?P<kind>SERVER|CLIENT) (?P<name>[a-z]+ \S+) (?P<status>\d{3}) "
                       r"(?P<ms>\d+\.\d{3})ms (?P<trace>[0-9a-f]{32}) (?P<id>[0-9a-f]{16}) "
                       r"(?P<parent>[0-9a-f]{16}|-)")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag):
    rc, out, err = run_cli(flag)
    assert rc == 0, err
    assert "--pid" in out + err


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    rc, out, err = run_cli(flag)
    assert rc == 0, err
    assert (out + err).strip(), "version printed nothing"


def test_missing_pid_is_refused():
    rc, out, err = run_cli("--pid", "999999999")
    assert rc != 0, f"accepted a pid that does not exist. stderr:\n{err}"
    assert "999999999" in err, f"message does not name the pid:\n{err}"
    assert out.strip() == ""


@pytest.mark.parametrize("args", [["--max-payload", "abc"], ["--max-payload", "0"],
                                  ["--max-payload", "65537"], ["--pid", "abc"], ["--duration", "soon"],
                                  ["--no-such-option"], ["--kubeconfig", "/nonexistent/kubeconfig"],
                                  ["--node-name", "Not_A_Node"], ["--service-name-template", "{nope}"],
                                  ["--service-name-template", "{label:a b}"]], ids=" ".join)
def test_bad_option_values(args):
    rc, out, err = run_cli(*args)
    assert rc != 0, f"sockspan {' '.join(args)} exited 0. stderr:\n{err}"
    assert err.strip(), "no message on stderr"
    assert out.strip() == "", f"diagnostics belong on stderr, stdout had:\n{out}"


def test_duration_stops_by_itself(sockspan, py_server):
    ss = sockspan("-p", py_server.pid, "--duration", "2").start()
    # Bounded by the harness timeout, not asserted as a latency.
    assert ss.proc.wait(STEP_TIMEOUT) == 0, ss.stderr()
    ss.stop()
    assert ss.spans == []


def test_sigterm_drains_and_exits_0(sockspan, py_server):
    ss = sockspan("-p", py_server.pid).start()
    t0 = now_us()
    [c] = curl(py_server.url("/status/503"))
    t1 = now_us()
    ss.stop(signal.SIGTERM)
    check(ss.spans, [server_row("get /status/{id}", "/status/503", 503, SERVER_COMM, py_server.pid,
                                (LO, py_server.port), (LO, c["local_port"]))], (t0, t1))


def test_text_mode(sockspan, py_server, driver):
    """Without -o: one readable line per exchange on stdout, in the documented format, nothing else."""
    d = driver()
    with sockspan("-p", py_server.pid, output="text") as ss:
        t0 = now_us()
        d.connect(LO, py_server.port)
        d.requests([("GET", "/status/200"), ("GET", "/status/404?x=1"), ("GET", "/status/503")])
        t1 = now_us()
    lines = ss.stdout_lines
    assert len(lines) == 3, "\n".join(lines)
    # What a reader needs, whatever the layout...
    for line, status in zip(lines, ["200", "404", "503"]):
        words = line.split()
        assert "SERVER" in words and status in words, line
        assert " get /status/{id} " in f" {line} ", line
        assert re.search(r"\b[0-9a-f]{32}\b", line), line
    # ...and the layout documented in --help's contract.
    parsed = []
    for line in lines:
        m = TEXT_LINE.fullmatch(line)
        assert m, f"line does not follow the documented format:\n{line}"
        parsed.append(m.groupdict())
    assert [(p["service"], p["kind"], p["name"], p["status"]) for p in parsed] == [
        (SERVER_COMM, "SERVER", "get /status/{id}", st) for st in ("200", "404", "503")]
    for p in parsed:
        ts = datetime.datetime.fromisoformat(p["ts"]).replace(tzinfo=datetime.timezone.utc)
        us = (ts - EPOCH) // datetime.timedelta(microseconds=1)
        assert t0 - CLOCK_SLACK_US <= us <= t1 + CLOCK_SLACK_US, f"{p['ts']} outside the test window"
    assert len({p["trace"] for p in parsed}) == 3


def test_json_on_stdout(sockspan, py_server):
    with sockspan("-p", py_server.pid, output="stdout") as ss:
        t0 = now_us()
        [c] = curl(py_server.url("/status/200"))
        t1 = now_us()
    check(ss.spans, [server_row("get /status/{id}", "/status/200", 200, SERVER_COMM, py_server.pid,
                                (LO, py_server.port), (LO, c["local_port"]))], (t0, t1))


def test_spans_are_written_while_running(sockspan, py_server):
    """What `make run` promises: each request's line shows up as it happens, not at exit."""
    with sockspan("-p", py_server.pid, output="text") as ss:
        curl(py_server.url("/status/200"))
        wait_until(lambda: any(" get /status/{id} 200 " in line for line in list(ss.proc.out.transcript)),
                   STEP_TIMEOUT, "the span's line on stdout while sockspan still runs")
        assert ss.proc.running()


def write_syscalls(pid):
    """(write syscalls, bytes written) of pid so far, from /proc/PID/io."""
    with open(f"/proc/{pid}/io") as f:
        io = dict(line.split(": ") for line in f.read().splitlines())
    return int(io["syscw"]), int(io["wchar"])


@pytest.mark.parametrize("output", ["stdout", "text"])
def test_stdout_pipe_written_in_large_blocks(output, sockspan, py_server, driver):
    """Spans to a pipe leave in large writes, not in stdio's 4 KiB blocks: 300 spans (~30-130
    KiB) made while sockspan is stopped are read in one poll round, so the average write()
    is larger than 4 KiB; with stdio's default buffer it cannot be."""
    d = driver()
    with sockspan("-p", py_server.pid, output=output) as ss:
        calls0, bytes0 = write_syscalls(ss.proc.pid)
        os.kill(ss.proc.pid, signal.SIGSTOP)
        try:
            for _ in range(10):
                d.pipeline(LO, py_server.port, [("GET", "/status/200")] * 30)
        finally:
            os.kill(ss.proc.pid, signal.SIGCONT)
        wait_until(lambda: len([l for l in list(ss.proc.out.transcript) if l.strip()]) >= 300 or None,
                   STEP_TIMEOUT, "300 spans on stdout")
        calls1, bytes1 = write_syscalls(ss.proc.pid)
    calls, written = calls1 - calls0, bytes1 - bytes0
    assert written > 300 * 80, f"{written} bytes for 300 spans"
    assert written / calls > 4096, f"{calls} write() calls for {written} bytes"


def tracefs_mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[1:3] == ["/sys/kernel/tracing", "tracefs"] for line in f)


@pytest.mark.parametrize("hooks", ["socket", "syscalls"])
def test_mounts_tracefs_only_when_missing_and_needed(sockspan, py_server, hooks):
    """A fresh node has no tracefs: the syscall tracepoints need it and sockspan mounts it
    itself; the socket hooks (BTF tracepoints) attach without it. Either way it traces."""
    while tracefs_mounted():  # it may be mounted more than once, stacked
        # Lazy: programs already attached elsewhere keep working; the mount point goes away.
        subprocess.run(["umount", "-l", "/sys/kernel/tracing"], check=True)
    with sockspan("--hooks", hooks, "-p", py_server.pid) as ss:
        assert tracefs_mounted() == (hooks == "syscalls")
        curl(py_server.url("/status/200"))
    assert [s["name"] for s in ss.spans] == ["get /status/{id}"]
