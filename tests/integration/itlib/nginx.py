"""A throwaway nginx (Debian's /usr/sbin/nginx) on a loopback port, configured like Debian ships it.

Everything nginx writes (pid, error log, temp dirs) lives in a private prefix
directory. The master runs in the foreground as our child; the single worker
is the process that reads and writes client sockets, so tests trace its pid.
POST /upload is answered 200 at once, whatever the body's size; nginx then
reads the body and discards it.
"""
import os
import shutil
import tempfile
from pathlib import Path

from .procs import Proc, children_of, comm_of, free_port, port_accepts, wait_until

NGINX = "/usr/sbin/nginx"
BIG_SIZE = 1 << 20  # 1 MiB: far beyond --max-payload, and sent with sendfile()

CONF = """\
daemon off;
master_process on;
worker_processes 1;
user www-data;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    sendfile on;
    tcp_nopush on;
    access_log off;
    default_type application/octet-stream;
    types {{ text/html html; }}
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen {listen};
        root {prefix}/html;
        location = /status/503 {{ return 503; }}
        location = /status/201 {{ return 201 "created\\n"; }}
        location = /upload {{ client_max_body_size 0; return 200 "ok\\n"; }}
    }}
}}
"""


def _comm_or_none(pid):
    try:
        return comm_of(pid)
    except OSError:  # exited between the /proc scan and now
        return None


class Nginx:
    """Attributes: port, master_pid, worker_pid, prefix, small (bytes of small.html), big_size."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.prefix = Path(tempfile.mkdtemp(prefix="sockspan-it-nginx-"))
        # The worker runs as www-data: the tree must be world-readable.
        os.chmod(self.prefix, 0o755)
        html = self.prefix / "html"
        html.mkdir(mode=0o755)
        (self.prefix / "tmp").mkdir(mode=0o755)
        self.small = b"<!doctype html><title>small</title><p>hello from nginx</p>\n"
        (html / "small.html").write_bytes(self.small)
        (html / "big.bin").write_bytes(os.urandom(BIG_SIZE))
        for f in html.iterdir():
            f.chmod(0o644)
        self.big_size = BIG_SIZE
        self.proc = None
        self.worker_pid = None
        # The port is chosen before nginx binds it; retry if another process won that race.
        for _ in range(3):
            self.port = free_port()
            if self._start():
                return
        raise AssertionError(f"nginx failed to start:\n{self.error_log()}")

    def _start(self):
        listen = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        conf = self.prefix / "nginx.conf"
        conf.write_text(CONF.format(prefix=self.prefix, listen=listen))
        self.proc = Proc([NGINX, "-p", self.prefix, "-e", self.prefix / "error.log", "-c", conf],
                         "nginx", stdin=False)
        self.master_pid = self.proc.pid

        def up():
            if not self.proc.running():
                return "exited"
            workers = [p for p in children_of(self.master_pid) if _comm_or_none(p) == "nginx"]
            if len(workers) == 1 and port_accepts(self.host, self.port):
                self.worker_pid = workers[0]
                return "up"
            return None

        state = wait_until(up, 30, "nginx to listen with one worker")
        if state == "exited":
            self.proc.wait()
            return False
        return True

    def url(self, path):
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}{path}"

    def error_log(self):
        try:
            return (self.prefix / "error.log").read_text()
        except OSError:
            return "(no error.log)"

    def stop(self):
        if self.proc:
            # SIGTERM to the master (our child) makes it stop its worker too.
            self.proc.stop()
            if self.worker_pid:
                wait_until(lambda: not Path(f"/proc/{self.worker_pid}").exists(), 30,
                           "nginx worker to exit")
        shutil.rmtree(self.prefix, ignore_errors=True)
