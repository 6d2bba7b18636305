"""Test-side handles for the server and client processes (apps/*.py, curl)."""
import json
import subprocess

from .procs import STEP_TIMEOUT, CommandedProc, child_env, python_app, thread_state, wait_until

SERVER_COMM = "it-httpd"
CLIENT_COMM = "it-client"


class PyServer:
    """apps/http_server.py in its own process; .pid, .host, .port, .url(path).
    port: 0 for any free one; leader_exits: see the app's --leader-exits."""

    def __init__(self, host="127.0.0.1", port=0, leader_exits=False):
        self.host = host
        self.proc = python_app("http_server.py", "--host", host, "--port", str(port), "--comm", SERVER_COMM,
                               *(["--leader-exits"] if leader_exits else []), name=f"http_server[{host}]")
        self.pid = self.proc.pid
        line = self.proc.readline()
        if not line.startswith("listening "):
            raise AssertionError(f"http_server printed {line!r} instead of 'listening <port>'")
        self.port = int(line.split()[1])

    def end_leader(self):
        """With leader_exits: its main thread ends now (once this returns, it has)."""
        self.proc.send_line("")
        wait_until(lambda: thread_state(self.pid) == "Z", STEP_TIMEOUT, "the main thread to end")

    def url(self, path):
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}{path}"

    def stop(self):
        self.proc.stop()


class Driver(CommandedProc):
    """apps/http_driver.py: a client process that acts only when told to."""

    def __init__(self):
        super().__init__(python_app("http_driver.py", "--comm", CLIENT_COMM, name="http_driver"), "ready")

    def connect(self, host, port):
        """Open the keep-alive connection; returns the client's local (ephemeral) port.
        Its fd number is then .fd."""
        reply = self._call(op="connect", host=host, port=port)
        self.fd = reply["fd"]
        return reply["lport"]

    def requests(self, reqs):
        """reqs: [(method, path) or (method, path, body_size)]; all on the one keep-alive connection.

        Returns the per-request results and checks they all used the same socket.
        """
        self.start_requests(reqs)
        return self.finish_requests()

    def start_requests(self, reqs):
        """Send the command and return at once, so several drivers can run at the same time."""
        payload = [{"method": r[0], "path": r[1], "body": r[2] if len(r) > 2 else 0} for r in reqs]
        self.proc.send_line(json.dumps({"op": "requests", "reqs": payload}))

    def finish_requests(self):
        """Results of the last start_requests(), checked as requests() documents."""
        reply = json.loads(self.proc.readline())
        if "error" in reply:
            raise AssertionError(f"http_driver requests failed: {reply['error']}")
        results = reply["results"]
        ports = {r["lport"] for r in results}
        assert len(ports) == 1, f"keep-alive broken: requests used local ports {sorted(ports)}"
        assert all(r["body_ok"] for r in results), f"echo mismatch: {results}"
        return results

    def pipeline(self, host, port, reqs, piece=0, iov=0, after_first=(), after_all=()):
        """All reqs written in one send() on a fresh raw socket; returns (lport, results).

        piece > 0: written instead as many small send()s of that many bytes.
        iov > 0: written with one sendmsg() of iovec entries of that many bytes.
        after_first: more requests sent in one send() once the first response is
        read; after_all: more sent one by one once all are answered (same socket).
        """
        def wire(rs):
            return [{"method": r[0], "path": r[1], "body": r[2] if len(r) > 2 else 0} for r in rs]

        reply = self._call(op="pipeline", host=host, port=port, reqs=wire(reqs), piece=piece, iov=iov,
                           after_first=wire(after_first), after_all=wire(after_all))
        return reply["lport"], reply["results"]

    def abandon(self, method, path):
        """Send that request on the keep-alive connection, then drop the socket with its
        response unread and no close() of it (see the app); returns its fd number."""
        return self._call(op="abandon", method=method, path=path)["fd"]

    def close(self):
        self._call(op="close")


class Peer(CommandedProc):
    """apps/tcp_peer.py: one end of TCP connections, on raw fds; each op a method."""

    def __init__(self):
        super().__init__(python_app("tcp_peer.py", name="tcp_peer"), "ready")

    def __getattr__(self, op):
        return lambda **args: self._call(op=op, **args)


def curl(*transfers):
    """One curl process running transfers in order, on one connection when it can.

    A transfer is a url, or a tuple (url, *curl options for that transfer only);
    they are separated by --next. Returns one dict per transfer: status,
    local_port, new_connection (curl's num_connects), pid (of that curl process,
    for its CLIENT spans).
    """
    argv = ["curl"]
    for i, t in enumerate(transfers):
        url, *opts = (t,) if isinstance(t, str) else t
        argv += ["--next"] if i else []
        argv += ["-sS", "--http1.1", "--noproxy", "*", "--max-time", "30",
                 "-w", "%{http_code} %{local_port} %{num_connects}\\n", *opts, "-o", "/dev/null", url]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=child_env())
    try:
        out, err = p.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"curl {transfers} did not finish in {STEP_TIMEOUT:.0f}s")
    if p.returncode != 0:
        raise AssertionError(f"curl failed rc={p.returncode}: {err}")
    rows = []
    for line in out.splitlines():
        code, lport, connects = line.split()
        rows.append({"status": int(code), "local_port": int(lport),
                     "new_connection": connects != "0", "pid": p.pid})
    assert len(rows) == len(transfers), f"curl reported {len(rows)} of {len(transfers)} transfers: {out}"
    return rows
