"""Run build/sockspan around a block of traffic and collect what it emitted.

    with Sockspan(["-p", pid], tmp_path) as ss:
        ...traffic...
    ss.spans        # every span, parsed and validated against the Zipkin schema

Start waits (bounded) for "ready" on stderr; stop sends SIGINT, requires exit
code 0, then parses the -o file. SOCKSPAN_BIN overrides the binary's path;
SOCKSPAN_HOOKS (socket, syscalls) adds --hooks to every run, so the same tests
check both capture paths (make integration-syscalls).
"""
import json
import os
import re
import signal
from pathlib import Path

from .procs import STEP_TIMEOUT, Proc, Started, log, wait_until
from .zipkin import REPO, schema_errors

BIN = Path(os.environ.get("SOCKSPAN_BIN", REPO / "build" / "sockspan"))
HOOKS = ["--hooks", os.environ["SOCKSPAN_HOOKS"]] if os.environ.get("SOCKSPAN_HOOKS") else []
READY = re.compile(r"\bready\b", re.IGNORECASE)


def require_binary():
    """Fail (never skip) when the agent cannot run here."""
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        raise AssertionError(f"{BIN} is missing: build it with `make` in {REPO}")
    if os.geteuid() != 0:
        raise AssertionError("sockspan needs root to load BPF programs: run the tests as root")


def run_cli(*args, timeout=STEP_TIMEOUT, wrap=()):
    """Run sockspan to completion (for option handling), behind the wrap command if any
    (setpriv...); returns (rc, stdout, stderr)."""
    require_binary()
    p = Proc([*wrap, BIN, *args], "sockspan", stdin=False)
    try:
        rc = p.wait(timeout)
    finally:
        p.stop(signal.SIGKILL)
    return rc, p.out.text(), p.err.text()


# sockspan as pid 1 of a pid namespace of its own, as in a pod without hostPID.
PIDNS = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]


class Sockspan(Started):
    """One sockspan run. output: "file" (-o tmpfile, default), "stdout" (-o -) or "text" (no -o).
    pidns: run it in a pid namespace of its own (unshare, which does not forward signals:
    they go to its child)."""

    def __init__(self, args, tmp_dir, output="file", pidns=False):
        require_binary()
        self.args = [str(a) for a in args]
        self.output = output
        self.pidns = pidns
        self.out_file = Path(tmp_dir) / f"spans-{os.getpid()}-{id(self)}.jsonl"
        self.proc = None
        self.rc = None
        self.spans = None
        self.stdout_lines = None

    def argv(self):
        extra = {"file": ["-o", self.out_file], "stdout": ["-o", "-"], "text": []}[self.output]
        return [*(PIDNS if self.pidns else []), BIN, *HOOKS, *self.args, *extra]

    def send(self, sig):
        pid = self.proc.pid
        if self.pidns:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            assert children, "unshare has no child: sockspan already exited"
            pid = int(children[0])
        os.kill(pid, sig)

    def launch(self):
        """Start the process and return at once (start() also waits for 'ready')."""
        self.proc = Proc(self.argv(), "sockspan", stdin=False)
        log(f"started {' '.join(map(str, self.argv()))} (pid {self.proc.pid})")
        return self

    def start(self):
        self.launch()

        def ready():
            if any(READY.search(line) for line in list(self.proc.err.transcript)):
                return "ready"
            return None if self.proc.running() else "exited"

        if wait_until(ready, STEP_TIMEOUT, "sockspan to print 'ready' on stderr") == "exited":
            self.proc.wait()
            raise AssertionError(f"sockspan exited with {self.proc.popen.returncode} before "
                                 f"'ready'. stderr:\n{self.stderr()}")
        return self

    def stderr(self):
        return self.proc.err.text() if self.proc else ""

    def stop(self, sig=signal.SIGINT):
        """Send sig (SIGINT), require exit 0 within the bound, then parse and schema-check the spans."""
        if self.proc.running():
            self.send(sig)
        try:
            self.rc = self.proc.wait(STEP_TIMEOUT)
        finally:
            self.proc.stop(signal.SIGKILL)  # no-op when it already exited
            log(f"---- sockspan stderr (exit {self.proc.popen.returncode}) ----\n{self.stderr()}")
        assert self.rc == 0, f"sockspan exited with {self.rc} after {sig.name}. stderr:\n{self.stderr()}"
        self.stdout_lines = [l for l in self.proc.out.transcript if l.strip()]
        if self.output == "text":
            return self
        if self.output == "file":
            assert self.stdout_lines == [], f"stdout should stay empty with -o FILE: {self.stdout_lines[:5]}"
            assert self.out_file.exists(), f"sockspan did not create {self.out_file}"
            lines = [l for l in self.out_file.read_text().splitlines() if l.strip()]
        else:
            lines = self.stdout_lines
        self.spans = [parse_span_line(l, n) for n, l in enumerate(lines, 1)]
        bad = [(s, schema_errors(s)) for s in self.spans]
        bad = [(s, e) for s, e in bad if e]
        assert not bad, "spans violating the Zipkin Span schema:\n" + "\n".join(
            f"{json.dumps(s)}\n    -> {e}" for s, e in bad[:5])
        return self

    def abort(self):
        """The block failed: only make sure nothing stays attached."""
        self.proc.stop(signal.SIGINT)
        log(f"---- sockspan stderr ----\n{self.stderr()}")


def parse_span_line(line, lineno):
    try:
        span = json.loads(line)
    except ValueError as e:
        raise AssertionError(f"output line {lineno} is not JSON ({e}): {line[:300]!r}")
    assert isinstance(span, dict), f"output line {lineno} is not one span object: {line[:300]!r}"
    return span
