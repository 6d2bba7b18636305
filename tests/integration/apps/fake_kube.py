"""A Kubernetes API server test double, speaking the real wire format for what
sockspan asks: GET /api/v1/pods (fieldSelector=spec.nodeName=..., limit and
continue) and /api/v1/services, as JSON lists, then the same with watch=1 as
a chunked stream of one JSON event per line, resumed from resourceVersion.

HTTPS with a throwaway CA made by openssl at start (ca_file), bearer token
checked (401 otherwise). The test drives it: set/delete objects (each a watch
event), bookmark(), gone() (history forgotten: watches get ERROR 410 and
watching from an older version gets it too), drop() (open watch connections
cut without the last chunk). It runs in a thread of the test process.
"""
import base64
import json
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

KINDS = {"/api/v1/pods": "pods", "/api/v1/services": "services"}


def make_certs(d):
    """ca.crt/ca.key and a server certificate for 127.0.0.1 signed by it, in d."""
    d = Path(d)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=fake-kube-ca")
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.crt", "-days", "1", "-extfile", "ext.cnf")
    return d / "ca.crt", d / "srv.crt", d / "srv.key"


class FakeKube:
    def __init__(self, tmp_dir, token="sockspan-test-token", page_size=1):
        self.token = token
        self.page_size = page_size
        self.cond = threading.Condition()
        self.objects = {"pods": {}, "services": {}}   # key -> object
        self.log = []                                 # (rv, kind, type, object)
        self.rv = 100
        self.oldest_rv = 100                          # watching from before this: 410
        self.epoch = 0                                # bumped by drop(): open watches end
        self.requests = []                            # (kind, "list"/"watch", query)
        self.unauthorized = 0
        self.ca_file, crt, key = make_certs(tmp_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- what the test does -------------------------------------------------

    @staticmethod
    def key(kind, obj):
        m = obj["metadata"]
        return m["uid"] if kind == "pods" else f"{m['namespace']}/{m['name']}"

    def _event(self, kind, etype, obj):
        with self.cond:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            k = self.key(kind, obj)
            if etype == "DELETED":
                self.objects[kind].pop(k, None)
            else:
                etype = "MODIFIED" if k in self.objects[kind] else "ADDED"
                self.objects[kind][k] = obj
            self.log.append((self.rv, kind, etype, obj))
            self.cond.notify_all()

    def set(self, kind, obj):
        self._event(kind, None, obj)

    def delete(self, kind, obj):
        self._event(kind, "DELETED", obj)

    def set_quietly(self, kind, obj):
        """Changed while history is lost: only a new list sees it."""
        with self.cond:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[kind][self.key(kind, obj)] = obj

    def bookmark(self):
        with self.cond:
            self.rv += 1
            self.log.append((self.rv, None, "BOOKMARK", {"metadata": {"resourceVersion": str(self.rv)}}))
            self.cond.notify_all()

    def gone(self):
        """The history is compacted: every open watch ends with ERROR 410, older versions get it too."""
        with self.cond:
            self.rv += 1
            self.oldest_rv = self.rv
            self.log.append((self.rv, None, "ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                      "status": "Failure", "reason": "Expired", "code": 410,
                                                      "message": "too old resource version"}))
            self.cond.notify_all()

    def drop(self):
        """Cut every open watch connection (no last chunk)."""
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()

    def count(self, kind, what):
        with self.cond:
            return sum(1 for k, w, _ in self.requests if k == kind and w == what)

    # --- the server side ------------------------------------------------------

    def _serve(self, h):
        url = urlparse(h.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        kind = KINDS.get(url.path)
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            with self.cond:
                self.unauthorized += 1
            return self._json(h, 401, {"kind": "Status", "code": 401, "reason": "Unauthorized"})
        if kind is None:
            return self._json(h, 404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        with self.cond:
            self.requests.append((kind, "watch" if q.get("watch") else "list", q))
        if q.get("watch"):
            return self._watch(h, kind, q)
        return self._list(h, kind, q)

    def _json(self, h, code, obj):
        body = json.dumps(obj).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _selected(self, kind, q, obj):
        sel = q.get("fieldSelector", "")
        if kind == "pods" and sel.startswith("spec.nodeName="):
            return obj.get("spec", {}).get("nodeName") == sel.split("=", 1)[1]
        return True

    def _list(self, h, kind, q):
        with self.cond:
            items = [o for _, o in sorted(self.objects[kind].items()) if self._selected(kind, q, o)]
            rv = self.rv
        start = 0
        if q.get("continue"):
            state = json.loads(base64.b64decode(q["continue"]))
            start, rv = state["start"], state["rv"]
        limit = min(int(q.get("limit", "500")), self.page_size)
        page = items[start:start + limit]
        meta = {"resourceVersion": str(rv)}
        if start + limit < len(items):
            meta["continue"] = base64.b64encode(json.dumps({"start": start + limit, "rv": rv}).encode()).decode()
        self._json(h, 200, {"kind": "PodList" if kind == "pods" else "ServiceList", "apiVersion": "v1",
                            "metadata": meta, "items": page})

    def _chunk(self, h, obj):
        line = json.dumps(obj).encode() + b"\n"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        h.wfile.flush()

    def _watch(self, h, kind, q):
        since = int(q.get("resourceVersion", "0") or "0")
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        with self.cond:
            epoch = self.epoch
            if since < self.oldest_rv:
                since = -1
        if since < 0:
            self._chunk(h, {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}})
            return self._end(h)
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.epoch != epoch or any(rv > since for rv, *_ in self.log), 0.5)
                if self.epoch != epoch:
                    return self._cut(h)
                events = [e for e in self.log if e[0] > since]
            for rv, k, etype, obj in events:
                since = rv
                if k not in (None, kind) or (k and not self._selected(kind, q, obj)):
                    continue
                self._chunk(h, {"type": etype, "object": obj})
                if etype == "ERROR":
                    return self._end(h)

    def _end(self, h):
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
        h.close_connection = True

    def _cut(self, h):
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
