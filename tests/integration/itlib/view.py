"""sockspan's tree view seen as a person sees it: in a pseudo-terminal of a known size.

    with PtySockspan(["-p", pid, "--view", "tree"], cols=120) as ss:
        ...traffic...
        ss.wait_for_traces({trace_id: 6})     # bounded poll of what the terminal shows
    ss.text()                                 # everything written to the terminal

parse_blocks() cuts that text into one block of lines per trace (header first); span_row()
reads one span line back into (error mark, depth, service, kind, name, status).
"""
import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading

from .procs import STEP_TIMEOUT, Started, _LinePump, child_env, log, wait_until
from .sockspan import BIN, HOOKS, READY, require_binary

ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEADER = re.compile(r"^\d\d:\d\d:\d\d trace (?P<trace>[0-9a-f]{16}|[0-9a-f]{32}) (?P<n>\d+) spans? "
                    r"(?P<dur>\S+)(?P<incomplete> incomplete)?$")
# mark, offset (8 columns, right-aligned), label (indent, service, kind, name), status, duration, bar
SPAN = re.compile(r"^(?P<mark>[! ]) *\+(?P<off>[0-9.]+(?:µs|ms|s|h)) (?P<label>.*?) "
                  r"(?P<status>\S+) +(?P<dur>[0-9.]+(?:µs|ms|s|h)) \|(?P<bar>[= ]+)\|$")
LABEL = re.compile(r"^(?P<indent> *)(?P<service>\S+) (?P<kind>CLIENT|SERVER) (?P<name>.+?) *$")


class PtySockspan(Started):
    """build/sockspan with stdout on a pseudo-terminal of cols x rows; stderr on a pipe."""

    def __init__(self, args, cols=120, rows=50, env=None):
        require_binary()
        self.cols = cols
        self.argv = [str(a) for a in [BIN, *HOOKS, *args]]
        self.env = {**child_env(), **(env or {})}
        self.env.pop("COLUMNS", None)
        self.rows = rows
        self.chunks, self.popen, self.rc = [], None, None

    def start(self):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR  # "\n" as written, not "\r\n"
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=slave,
                                      stderr=subprocess.PIPE, env=self.env)
        os.close(slave)
        self.master = master
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err = _LinePump(self.popen.stderr)
        self.err.start()
        log(f"started {' '.join(self.argv)} on a {self.cols}x{self.rows} pty (pid {self.popen.pid})")

        def ready():
            if any(READY.search(line) for line in list(self.err.transcript)):
                return "ready"
            return None if self.popen.poll() is None else "exited"

        if wait_until(ready, STEP_TIMEOUT, "sockspan to print 'ready' on stderr") == "exited":
            raise AssertionError(f"sockspan exited with {self.popen.returncode}: {self.err.text()}")
        return self

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not data:
                return
            self.chunks.append(data)

    def text(self):
        return b"".join(list(self.chunks)).decode("utf-8", "replace")

    def wait_for_traces(self, spans_by_trace):
        """Poll (bounded) until each trace id shows as one block of that many span lines."""
        def shown():
            blocks = parse_blocks(self.text())
            return all(len(blocks.get(t, [])) == n + 1 for t, n in spans_by_trace.items()) or None

        wait_until(shown, STEP_TIMEOUT, f"the terminal to show traces {sorted(spans_by_trace)}")

    def stop(self):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        try:
            self.rc = self.popen.wait(STEP_TIMEOUT)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()
            self.reader.join(5)
            os.close(self.master)
            self.err.done.wait(5)
            log(f"---- sockspan stderr (exit {self.popen.returncode}) ----\n{self.err.text()}")
            log(f"---- sockspan terminal ----\n{self.text()}")
        assert self.rc == 0, f"sockspan exited with {self.rc}. stderr:\n{self.err.text()}"
        return self

    def abort(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


def parse_blocks(text):
    """{trace id: [header, span lines...]} (raw, colours kept); a trace shown twice fails."""
    blocks, current = {}, None
    for line in text.split("\n"):
        m = HEADER.match(ANSI.sub("", line))
        if m:
            assert m["trace"] not in blocks, f"trace {m['trace']} shown twice:\n{text}"
            current = blocks[m["trace"]] = [line]
        elif current is not None and SPAN.match(ANSI.sub("", line)):
            current.append(line)
        else:
            current = None
    return blocks


def span_row(line):
    """(error mark, depth, service, kind, name, status) of one span line of a tree."""
    plain = ANSI.sub("", line)
    m = SPAN.match(plain)
    assert m, f"not a span line: {plain!r}"
    label = LABEL.match(m["label"])
    assert label, f"no service, kind and name in {m['label']!r}"
    assert len(label["indent"]) % 2 == 0, f"odd indent in {plain!r}"
    return (m["mark"] == "!", len(label["indent"]) // 2, label["service"], label["kind"], label["name"],
            m["status"])


def replay(*args, env=None, stdin=None):
    """`sockspan view ...` as a user runs it (stdout a pipe); returns (rc, stdout, stderr)."""
    p = subprocess.run([str(BIN), "view", *map(str, args)], capture_output=True, timeout=STEP_TIMEOUT,
                       env={**child_env(), **(env or {})}, input=stdin)
    return p.returncode, p.stdout.decode(), p.stderr.decode()
