"""Cleartext HTTP/2 peers from Debian: nghttpd and h2o (servers), nghttp and h2load (clients).

Each server serves the same small tree (DOCS) from a private directory on a
free loopback port; tests trace the server's pid. nghttpd speaks HTTP/2 with
prior knowledge only; h2o also accepts HTTP/1.1 `Upgrade: h2c`.
"""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .procs import STEP_TIMEOUT, Proc, child_env, free_port, port_accepts, wait_until

NGHTTPD = "/usr/sbin/nghttpd"
NGHTTP = "/usr/bin/nghttp"
H2LOAD = "/usr/bin/h2load"
H2O = "/usr/bin/h2o"
# 100 kB: several DATA frames of 16 kB, and writes beyond --max-payload (capture gaps inside DATA).
BIG_SIZE = 100_000
DOCS = {
    "a.txt": b"hello over h2\n",
    "items/42": b'{"id": 42}\n',
    "big.bin": bytes(i % 251 for i in range(BIG_SIZE)),
}

H2O_CONF = """\
listen:
  host: {host}
  port: {port}
num-threads: 1
error-log: {prefix}/error.log
hosts:
  default:
    paths:
      /fail:
        mruby.handler: |
          Proc.new do |env|
            [503, {{"content-type" => "text/plain"}}, ["unavailable\\n"]]
          end
      /:
        file.dir: {prefix}/html
"""


def _require(path, package):
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is missing: install the Debian package {package} (make deps)")


class _Server:
    """Common part: a world-readable docroot (h2o drops to nobody) and a port won without a race."""

    def __init__(self, host, name):
        self.host = host
        self.name = name
        self.prefix = Path(tempfile.mkdtemp(prefix=f"sockspan-it-{name}-"))
        os.chmod(self.prefix, 0o755)
        html = self.prefix / "html"
        for rel, body in DOCS.items():
            f = html / rel
            f.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            f.write_bytes(body)
            f.chmod(0o644)
        os.chmod(html, 0o755)
        self.proc = None
        # The port is chosen before the server binds it; retry if another process won that race.
        for _ in range(3):
            self.port = free_port()
            self.proc = Proc(self.argv(), name, stdin=False)
            self.pid = self.proc.pid
            state = wait_until(lambda: "up" if port_accepts(host, self.port)
                               else None if self.proc.running() else "exited",
                               STEP_TIMEOUT, f"{name} to listen")
            if state == "up":
                return
            self.proc.wait()
        raise AssertionError(f"{name} failed to start:\n{self.proc.err.text()}\n{self.log()}")

    def argv(self):
        raise NotImplementedError

    def log(self):
        return ""

    def url(self, path):
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}{path}"

    def stop(self):
        if self.proc:
            self.proc.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


class Nghttpd(_Server):
    """nghttpd --no-tls on a loopback port. POST and PUT bodies are echoed (--echo-upload).

    extra: more nghttpd options (e.g. ["-b", "255"] for padded frames).
    """

    def __init__(self, host="127.0.0.1", extra=()):
        _require(NGHTTPD, "nghttp2-server")
        self.extra = list(extra)
        super().__init__(host, "nghttpd")

    def argv(self):
        return [NGHTTPD, "--no-tls", "--echo-upload", *self.extra, "-a", self.host,
                "-d", self.prefix / "html", self.port]


class H2o(_Server):
    """h2o (one thread) serving DOCS over HTTP/1.1, h2c upgrade and h2c with prior knowledge.

    /fail and everything under it answers 503.
    """

    def __init__(self, host="127.0.0.1"):
        _require(H2O, "h2o")
        super().__init__(host, "h2o")

    def argv(self):
        conf = self.prefix / "h2o.conf"
        conf.write_text(H2O_CONF.format(host=self.host, port=self.port, prefix=self.prefix))
        return [H2O, "-c", conf]

    def log(self):
        try:
            return (self.prefix / "error.log").read_text()
        except OSError:
            return "(no error.log)"


def _run(argv, what):
    p = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=child_env())
    try:
        out, err = p.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"{what} did not finish in {STEP_TIMEOUT:.0f}s")
    if p.returncode != 0:
        raise AssertionError(f"{what} failed rc={p.returncode}:\n{out[-3000:]}\n{err[-3000:]}")
    return p.pid, out


SEND_HEADERS = re.compile(r"send HEADERS frame <.*stream_id=(\d+)>")
PSEUDO = re.compile(r"^\s+(:method|:path): (.*)$")
RECV_STATUS = re.compile(r"recv \(stream_id=(\d+)\) :status: (\d+)")


def nghttp(*urls, opts=()):
    """One nghttp process, all urls on one connection (streams multiplexed), bodies discarded.

    opts: more nghttp options (-u: HTTP/1.1 upgrade, -d FILE: POST, -b N, -c N,
    --continuation...). Returns (pid, [(method, path, status)]) in request order,
    read from nghttp's own log of the frames it sent and received.
    """
    _require(NGHTTP, "nghttp2-client")
    pid, out = _run([NGHTTP, "-nv", *opts, *urls], f"nghttp {' '.join(map(str, opts))} {urls}")
    streams = {}  # stream id -> [method, path, status], in the order nghttp opened them
    current = None
    upgrade = "-u" in opts or "--upgrade" in opts
    if upgrade:  # the first url went as an HTTP/1.1 request: it is stream 1 (RFC 9113 3.2)
        streams["1"] = ["GET", urlsplit(urls[0]).path, None]
    for line in out.splitlines():
        m = SEND_HEADERS.search(line)
        if m:
            current = streams.setdefault(m.group(1), [None, None, None])
            continue
        m = PSEUDO.match(line)
        if m and current is not None:
            current[0 if m.group(1) == ":method" else 1] = m.group(2).split("?")[0]
            continue
        current = None if line.startswith("[") else current
        m = RECV_STATUS.search(line)
        if m and m.group(1) in streams:
            streams[m.group(1)][2] = int(m.group(2))
    rows = [tuple(v) for v in streams.values()]
    assert len(rows) == len(urls) and all(None not in r for r in rows), (
        f"nghttp did not report every request:\n{rows}\n{out[-5000:]}")
    return pid, rows


H2LOAD_REQUESTS = re.compile(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                             r"(\d+) failed, (\d+) errored, (\d+) timeout", re.M)
H2LOAD_CODES = re.compile(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", re.M)


def h2load(url, n, clients=1, streams=10, opts=()):
    """h2load -n n -c clients -m streams url; fails unless all n requests succeeded with 2xx.
    opts: more h2load options (--rps N: N requests a second per client)."""
    _require(H2LOAD, "nghttp2-client")
    pid, out = _run([H2LOAD, "-n", n, "-c", clients, "-m", streams, *opts, url], f"h2load {url}")
    req, codes = H2LOAD_REQUESTS.search(out), H2LOAD_CODES.search(out)
    assert req and codes, f"h2load printed no summary:\n{out}"
    assert int(req.group(4)) == n and int(codes.group(1)) == n, f"h2load: not all {n} requests OK:\n{out}"
    return pid
