"""One service of a request chain over gRPC (python3-grpcio, cleartext h2c, no protoc).

    chain_grpc.py --host IP --comm NAME --propagate none|b3|xrid|zipkin
                  [--call grpc://IP:PORT | --call redis://IP:PORT]... [--zipkin-file PATH]

Prints "listening <port>" once the port accepts connections; runs until stdin closes or
SIGTERM. One unary method, /chain.Chain/Hop: the request is n as ASCII digits; it makes
each --call in order, from the handler thread:
    grpc://...   /chain.Chain/Hop(n) on this process's one channel to that address
    redis://...  GET key:<n> with the handler thread's own redis-py client
with the trace metadata --propagate says (see chainlib; metadata keys are lowercase),
and answers the JSON document chain_http.py answers, as UTF-8 bytes. A failing call ends
the RPC with UNAVAILABLE and the error as details; nothing is retried.
"""
import json
import sys
from concurrent import futures

import grpc
from applib import set_comm
from chainlib import TIMEOUT, Chain, Zipkin, parse_call, service_args

SERVICE, METHOD = "chain.Chain", "Hop"
FULL_METHOD = f"/{SERVICE}/{METHOD}"
WORKERS = 32
# No proxy, no retries: exactly the calls the test asked for reach the wire.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0)]


class GrpcChain(Chain):
    scheme, name, lowercase = "grpc", FULL_METHOD, True

    def __init__(self, *args):
        super().__init__(*args)
        # Channels connect on their first call, so after the agent attached.
        self.stubs = {(h, p): grpc.insecure_channel(f"{h}:{p}", options=CHANNEL_OPTIONS)
                      .unary_unary(FULL_METHOD) for s, h, p in self.calls if s == "grpc"}

    def remote(self, host, port, n, headers):
        reply = self.stubs[host, port](str(n).encode(), metadata=tuple(headers.items()), timeout=TIMEOUT)
        return {"to": "grpc", "sent": headers, "reply": json.loads(reply)}

    def hop(self, request, context):
        n, pairs = int(request.decode()), list(context.invocation_metadata())
        try:
            if self.propagate == "zipkin":  # the span ends (and is written) before the answer
                with self.zipkin.server(FULL_METHOD, pairs):
                    payload = self.run(n, pairs)
            else:
                payload = self.run(n, pairs)
        except Exception as e:  # the caller sees it; the test decides
            context.abort(grpc.StatusCode.UNAVAILABLE, f"{type(e).__name__}: {e}")
        return json.dumps(payload).encode()


def main():
    args = service_args()
    if any(parse_call(c)[0] == "http" for c in args.call):
        sys.exit("chain_grpc calls grpc:// and redis:// only")
    set_comm(args.comm)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS))
    port = server.add_insecure_port(f"{args.host}:{args.port}")
    if port == 0:
        print(f"cannot bind {args.host}", file=sys.stderr)
        return 1
    zipkin = Zipkin(args.comm, args.host, port, args.zipkin_file) if args.zipkin_file else None
    chain = GrpcChain(args.comm, args.propagate, args.call, zipkin)
    handler = grpc.unary_unary_rpc_method_handler(chain.hop)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler})])
    server.start()
    print(f"listening {port}", flush=True)
    sys.stdin.read()  # until stdin closes or SIGTERM: the test owns our lifetime
    server.stop(grace=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
