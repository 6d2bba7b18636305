"""gRPC test server (python3-grpcio, cleartext h2c), run as its own process so sockspan can trace it by pid.

    grpc_server.py [--host 127.0.0.1|::1] [--comm NAME] [--hpack-table BYTES]

Prints "listening <port>" once the port accepts connections. No protoc: the
service is a generic handler over raw bytes. Service demo.Echo:
    Say      unary            the request back
    Fail     unary            request "CODE MESSAGE": ends with status CODE and that
                              message, before any response message (a Trailers-Only
                              response); "CODE" alone: no message
    Count    server streaming request "N": N response messages b"0".."N-1", status OK;
                              "N CODE MESSAGE": those N messages, then status CODE
    Collect  client streaming one response: the request messages joined by b","
    Chat     bidirectional    each request message back, as it arrives
    Hang     server streaming response headers, then nothing until the client cancels
Any other method: grpcio's own UNIMPLEMENTED.
--hpack-table: the HPACK dynamic table size our decoder allows (SETTINGS_HEADER_TABLE_SIZE);
0 makes the client encode every header field without the dynamic table.
"""
import argparse
import sys
import threading
from concurrent import futures

import grpc
from applib import set_comm

SERVICE = "demo.Echo"
# Enough workers that 100 concurrent calls on one channel never wait for a thread.
WORKERS = 128
HPACK_TABLE_ARG = "grpc.http2.hpack_table_size.decoder"


STATUS = {c.value[0]: c for c in grpc.StatusCode}


def abort_with(context, spec):
    """spec: b"CODE" or b"CODE MESSAGE" -> end the call with that status (and message)."""
    code, _, message = spec.decode().partition(" ")
    context.abort(STATUS[int(code)], message)


def say(request, context):
    return request


def fail(request, context):
    abort_with(context, request)
    return None


def count(request, context):
    n, _, spec = request.decode().partition(" ")
    for i in range(int(n)):
        yield str(i).encode()
    if spec:
        abort_with(context, spec.encode())


def collect(requests, context):
    return b",".join(requests)


def chat(requests, context):
    for r in requests:
        yield r


def hang(request, context):
    context.send_initial_metadata(())
    done = threading.Event()
    context.add_callback(done.set)
    done.wait(60)
    yield from ()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--comm", default="it-grpcd")
    ap.add_argument("--hpack-table", type=int)
    args = ap.parse_args()
    set_comm(args.comm)
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Collect": grpc.stream_unary_rpc_method_handler(collect),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Hang": grpc.unary_stream_rpc_method_handler(hang),
    }
    options = [] if args.hpack_table is None else [(HPACK_TABLE_ARG, args.hpack_table)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS),
                         handlers=[grpc.method_handlers_generic_handler(SERVICE, handlers)],
                         options=options)
    host = f"[{args.host}]" if ":" in args.host else args.host
    port = server.add_insecure_port(f"{host}:0")
    if port == 0:
        print(f"cannot bind {host}", file=sys.stderr)
        return 1
    server.start()
    print(f"listening {port}", flush=True)
    # Until stdin closes or SIGTERM: the test owns our lifetime.
    sys.stdin.read()
    server.stop(grace=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
