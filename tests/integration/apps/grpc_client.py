"""gRPC client (python3-grpcio, cleartext h2c) driven over stdin, so sockspan can trace it by pid.

    grpc_client.py [--comm NAME]

Prints "ready", then reads one JSON command per stdin line and answers each
with one JSON line on stdout (like http_driver.py). Messages are text, sent
as their UTF-8 bytes with no protobuf around them. Commands:

    {"op": "connect", "host": H, "port": P, "hpack_table": null}
        one insecure channel, connected (preface and SETTINGS exchanged)  -> {}
        hpack_table: the HPACK dynamic table size our decoder allows; 0 makes
        the server encode every header field without the dynamic table
    {"op": "calls", "calls": [CALL, ...], "concurrent": false}
        CALL = {"type": "unary"|"server_stream"|"client_stream"|"bidi"|"cancel",
                "method": "/demo.Echo/Say", "requests": ["text", ...]}
        unary and server_stream send requests[0]; "cancel" is a server-streaming
        call cancelled (RST_STREAM) once the server's response headers arrived.
        One after another, or (concurrent, unary only) all started before any is awaited, so their
        streams are multiplexed on the channel's one connection.
        -> {"results": [{"code": 0, "details": "...", "responses": ["text", ...]}, ...]}
    {"op": "close"}   close the channel  -> {}
    {"op": "exit"}    -> {} and exit 0
Any failure of the driver itself answers {"error": "..."}; a call ending with
a non-OK status is a result, not a failure.
"""
import argparse
import sys

import grpc
from applib import serve_commands, set_comm

CALL_TIMEOUT = 30.0  # seconds; only a hung peer reaches it
HPACK_TABLE_ARG = "grpc.http2.hpack_table_size.decoder"


def status_of(call):
    """The status a finished call (or its RpcError) ended with."""
    return {"code": call.code().value[0], "details": call.details() or ""}


class Client:
    def __init__(self):
        self.channel = None

    def connect(self, host, port, hpack_table=None):
        h = f"[{host}]" if ":" in host else host
        # No proxy, and no second connection behind our back (one subchannel, no retries).
        options = [("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0)]
        if hpack_table is not None:
            options.append((HPACK_TABLE_ARG, hpack_table))
        self.channel = grpc.insecure_channel(f"{h}:{port}", options=options)
        grpc.channel_ready_future(self.channel).result(timeout=CALL_TIMEOUT)
        return {}

    def _callable(self, kind, method):
        make = {"unary": self.channel.unary_unary, "cancel": self.channel.unary_stream,
                "server_stream": self.channel.unary_stream,
                "client_stream": self.channel.stream_unary,
                "bidi": self.channel.stream_stream}[kind]
        return make(method)  # no (de)serializers: messages are raw bytes

    def _one(self, call):
        kind, reqs = call["type"], [r.encode() for r in call["requests"]]
        fn = self._callable(kind, call["method"])
        out = []  # responses received, kept when the call then fails
        try:
            if kind == "unary":
                out.append(fn(reqs[0], timeout=CALL_TIMEOUT))
            elif kind == "cancel":
                stream = fn(reqs[0], timeout=CALL_TIMEOUT)
                # The server's response headers prove it has the call: cancel only then.
                stream.initial_metadata()
                stream.cancel()
                return {**status_of(stream), "responses": []}
            elif kind == "client_stream":
                out.append(fn(iter(reqs), timeout=CALL_TIMEOUT))
            else:
                arg = reqs[0] if kind == "server_stream" else iter(reqs)
                for r in fn(arg, timeout=CALL_TIMEOUT):
                    out.append(r)
        except grpc.RpcError as e:
            return {**status_of(e), "responses": [r.decode() for r in out]}
        return {"code": 0, "details": "", "responses": [r.decode() for r in out]}

    def _concurrent(self, calls):
        if any(c["type"] != "unary" for c in calls):
            raise ValueError("concurrent calls must be unary")
        futs = [self._callable("unary", c["method"]).future(c["requests"][0].encode(),
                                                             timeout=CALL_TIMEOUT) for c in calls]
        results = []
        for f in futs:
            try:
                results.append({"code": 0, "details": "", "responses": [f.result().decode()]})
            except grpc.RpcError as e:
                results.append({**status_of(e), "responses": []})
        return results

    def calls(self, calls, concurrent=False):
        if concurrent:
            return {"results": self._concurrent(calls)}
        return {"results": [self._one(c) for c in calls]}

    def close(self):
        if self.channel:
            self.channel.close()
            self.channel = None
        return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--comm", default="it-grpc-client")
    args = ap.parse_args()
    set_comm(args.comm)
    cli = Client()
    return serve_commands(cli)


if __name__ == "__main__":
    sys.exit(main())
