"""Child processes with line-oriented pipes, bounded waits and free ports.

Every helper here is bounded in time: a wait that runs out fails the test with
a message instead of hanging the suite.
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

# Debian's interpreter: it has pytest/jsonschema/yaml, and children started
# with it get the predictable comm "python3" until they rename themselves.
PYTHON = "/usr/bin/python3"
APPS = Path(__file__).resolve().parent.parent / "apps"

# How long any single startup/shutdown step may take before the test fails.
STEP_TIMEOUT = 30.0


def child_env():
    """Environment for children: no proxies (traffic must stay on loopback), unbuffered python."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def now_us():
    """Wall clock in epoch microseconds, the unit of Zipkin timestamps."""
    return time.time_ns() // 1000


def wait_until(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns a truthy value (returned) or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def free_port(family=socket.AF_INET):
    """A TCP port that was free on loopback a moment ago (for servers that need it in a config file)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_accepts(host, port):
    """True when a TCP connect to host:port succeeds right now."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def children_of(ppid):
    """Pids whose parent is ppid (scans /proc: CONFIG_PROC_CHILDREN is not everywhere)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # comm may contain spaces and parens: fields restart after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid:
            pids.append(int(entry))
    return sorted(pids)


def thread_state(tid):
    """The state letter of a thread (R, S, Z...) from /proc/TID/stat."""
    stat = Path(f"/proc/{tid}/stat").read_text()
    return stat[stat.rindex(")") + 2:].split()[0]


def comm_of(pid):
    return Path(f"/proc/{pid}/comm").read_text().strip()


class _LinePump(threading.Thread):
    """Reads a pipe line by line into a queue and keeps a full transcript."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = queue.Queue()
        self.transcript = []
        self.done = threading.Event()

    def run(self):
        try:
            for raw in iter(self.stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.transcript.append(line)
                self.lines.put(line)
        finally:
            self.done.set()

    def text(self):
        return "\n".join(self.transcript)


class Proc:
    """A child process whose stdout/stderr are pumped line by line; stdin stays open for commands."""

    def __init__(self, argv, name, stdin=True):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
        )
        self.pid = self.popen.pid
        self.out = _LinePump(self.popen.stdout)
        self.err = _LinePump(self.popen.stderr)
        self.out.start()
        self.err.start()

    def readline(self, timeout=STEP_TIMEOUT):
        """Next stdout line; fails the test if none arrives in time or the process died."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.out.lines.get(timeout=0.05)
            except queue.Empty:
                pass
            if self.out.done.is_set() and self.out.lines.empty():
                self.err.done.wait(1)
                raise AssertionError(
                    f"{self.name} (pid {self.pid}) closed stdout, exit={self.popen.poll()}\n"
                    f"stderr:\n{self.err.text()}"
                )
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self.name} (pid {self.pid}) printed nothing for {timeout:.0f}s\n"
                    f"stderr:\n{self.err.text()}"
                )

    def send_line(self, line):
        self.popen.stdin.write(line.encode() + b"\n")
        self.popen.stdin.flush()

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout=STEP_TIMEOUT):
        """Exit code; fails the test if the process is still running after timeout."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} (pid {self.pid}) still running after {timeout:.0f}s")
        self.out.done.wait(5)
        self.err.done.wait(5)
        return rc

    def stop(self, sig=signal.SIGTERM):
        """Signal this process (by its own pid only), wait, escalate to SIGKILL if needed."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(sig)
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        for pipe in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if pipe:
                try:
                    pipe.close()
                except OSError:
                    pass


class Started:
    """`with obj:` for objects with start(), stop() and abort(): start() on entry; on exit
    stop() (which checks what the block did), or after a failure abort(), which only
    makes sure nothing is left running."""

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.abort()
        return False


class CommandedProc:
    """A helper process that acts only on JSON command lines (apps/applib.py's
    serve_commands, the collector): _call sends one and returns its JSON reply;
    stop asks it to exit, then makes sure it is gone."""

    def __init__(self, proc, greeting):
        self.proc = proc
        self.pid = proc.pid
        self.greeting = proc.readline()
        if not self.greeting.startswith(greeting):
            raise AssertionError(f"{proc.name} printed {self.greeting!r} instead of {greeting!r}")

    def _call(self, **cmd):
        self.proc.send_line(json.dumps(cmd))
        reply = json.loads(self.proc.readline())
        if "error" in reply:
            raise AssertionError(f"{self.proc.name} {cmd['op']} failed: {reply['error']}")
        return reply

    def stop(self):
        if self.proc.running():
            try:
                self.proc.send_line(json.dumps({"op": "exit"}))
                self.proc.wait(10)
            except (OSError, AssertionError):
                pass
        self.proc.stop()


def python_app(script, *args, name=None):
    """Start one of apps/*.py with Debian's python as a separate process."""
    return Proc([PYTHON, APPS / script, *args], name or script)


def log(msg):
    """Progress note that pytest shows with the test's captured output on failure."""
    print(msg, file=sys.stdout, flush=True)


def with_pid(pid, make, attempts=50):
    """make() until what it starts gets this pid (the kernel hands out ns_last_pid + 1);
    what got another pid is stopped."""
    for _ in range(attempts):
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(pid - 1))
        p = make()
        if p.pid == pid:
            return p
        p.stop()
    raise AssertionError(f"could not start a process with pid {pid} in {attempts} tries")


def handles_signal(pid, sig):
    """Does pid have a handler for sig (SigCgt in /proc/PID/status)?"""
    try:
        with open(f"/proc/{pid}/status") as f:
            cgt = next(line for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(cgt.split()[1], 16) >> (sig - 1) & 1)
