"""The client at the head of a request chain, driven over stdin (like http_driver.py).

    chain_driver.py --host IP --comm NAME [--zipkin-file PATH]

Prints "ready", then one JSON command per stdin line, one JSON reply each:

    {"op": "run", "proto": "http"|"grpc", "target": "IP:PORT", "count": N, "first": 0,
     "concurrency": 1, "headers": "none"|"b3"|"xrid"|"zipkin", "sampled": "1"}
        requests n = first .. first+N-1: GET /chain/<n> (http) or /chain.Chain/Hop(n) (grpc).
        `concurrency` threads, each with one connection (http.client keep-alive, or one gRPC
        channel) opened before any request is sent; thread i sends n = first+i,
        first+i+concurrency, ... one after the other, and the threads start sending together.
        headers (gRPC metadata keys in lowercase):
            none    none
            b3      X-B3-TraceId (fresh random 128 bits), X-B3-SpanId (fresh 64 bits),
                    X-B3-Sampled (`sampled`)
            xrid    X-Request-Id: a fresh uuid4
            zipkin  a py_zipkin root CLIENT span per request (128-bit trace id, spans appended
                    to --zipkin-file), with the B3 headers py_zipkin mints inside it
        -> {"results": [{"n", "sent": {headers}, "status": 200 | grpc code, "reply": JSON,
                         "trace_id": (b3, zipkin) the trace id sent}, ...]} in n order
    {"op": "exit"}  -> {} and exit 0
A failed request is a result (status, or code and "details"); a broken driver answers {"error"}.
"""
import argparse
import http.client
import json
import secrets
import sys
import threading
import uuid

import grpc
from applib import serve_commands, set_comm
from chainlib import TIMEOUT, Zipkin

NAME = {"http": "get /chain/{id}", "grpc": "/chain.Chain/Hop"}
GRPC_METHOD = "/chain.Chain/Hop"


def nonzero_hex(nbytes):
    while True:
        h = secrets.token_hex(nbytes)
        if int(h, 16):
            return h


class HttpConn:
    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        self.conn.connect()

    def send(self, n, headers):
        self.conn.request("GET", f"/chain/{n}", headers=headers)
        resp = self.conn.getresponse()
        body = resp.read()
        try:
            reply = json.loads(body)
        except ValueError:
            reply = body.decode("utf-8", "replace")
        return {"status": resp.status, "reply": reply}

    def close(self):
        self.conn.close()


class GrpcConn:
    def __init__(self, target):
        # A local subchannel pool: channels of one process would share a connection otherwise.
        self.channel = grpc.insecure_channel(target, options=[
            ("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0),
            ("grpc.use_local_subchannel_pool", 1)])
        grpc.channel_ready_future(self.channel).result(timeout=TIMEOUT)
        self.call = self.channel.unary_unary(GRPC_METHOD)

    def send(self, n, headers):
        try:
            reply = self.call(str(n).encode(), metadata=tuple(headers.items()), timeout=TIMEOUT)
        except grpc.RpcError as e:
            return {"status": e.code().value[0], "details": e.details()}
        return {"status": 0, "reply": json.loads(reply)}

    def close(self):
        self.channel.close()


class Driver:
    def __init__(self, zipkin):
        self.zipkin = zipkin

    def _one(self, conn, proto, n, mode, sampled):
        grpc_keys = proto == "grpc"
        if mode == "zipkin":
            with self.zipkin.root_client(NAME[proto]):
                sent = Zipkin.headers(lowercase=grpc_keys)
                result = conn.send(n, sent)
        else:
            sent = {}
            if mode == "b3":
                sent = {"X-B3-TraceId": nonzero_hex(16), "X-B3-SpanId": nonzero_hex(8),
                        "X-B3-Sampled": sampled}
            elif mode == "xrid":
                sent = {"X-Request-Id": str(uuid.uuid4())}
            elif mode != "none":
                raise ValueError(f"headers {mode!r}")
            if grpc_keys:
                sent = {k.lower(): v for k, v in sent.items()}
            result = conn.send(n, sent)
        out = {"n": n, "sent": sent, **result}
        tid = {k.lower(): v for k, v in sent.items()}.get("x-b3-traceid")
        if tid:
            out["trace_id"] = tid
        return out

    def run(self, proto, target, count, first=0, concurrency=1, headers="none", sampled="1"):
        if headers == "zipkin" and not self.zipkin:
            raise ValueError("headers zipkin needs --zipkin-file")
        ns = list(range(first, first + count))
        slots = [ns[i::concurrency] for i in range(concurrency)]
        conn_class = {"http": HttpConn, "grpc": GrpcConn}[proto]
        conns = [conn_class(target) for _ in slots]  # every connection open before any request
        start = threading.Barrier(len(slots))
        results, failures = {}, []

        def worker(conn, mine):
            try:
                start.wait(TIMEOUT)
                for n in mine:
                    results[n] = self._one(conn, proto, n, headers, sampled)
            except Exception as e:  # reported below
                failures.append(f"{type(e).__name__}: {e}")

        threads = [threading.Thread(target=worker, args=(c, s)) for c, s in zip(conns, slots)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * (len(ns) + 1))
        for c in conns:
            c.close()
        if failures or any(t.is_alive() for t in threads):
            raise RuntimeError(f"driver threads failed: {failures or 'still running'}")
        return {"results": [results[n] for n in ns]}

    def close(self):
        return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True, help="this pod's address, for py_zipkin's endpoint")
    ap.add_argument("--comm", required=True)
    ap.add_argument("--zipkin-file")
    args = ap.parse_args()
    set_comm(args.comm)
    zipkin = Zipkin(args.comm, args.host, 0, args.zipkin_file) if args.zipkin_file else None
    return serve_commands(Driver(zipkin))


if __name__ == "__main__":
    sys.exit(main())
