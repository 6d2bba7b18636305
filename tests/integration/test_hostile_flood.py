"""A traced process that floods sockspan's per-connection state, beside a gRPC channel.

it-flood opens 70,000 loopback connections one after another, each starting with the
HTTP/2 client preface (so the capture copies every byte of it) and each dropped with
dup2 instead of close(), so nothing tells sockspan it is gone: more connections than
the kernel's and sockspan's tables hold (65,536). A gRPC channel opened before the
flood and idle during it must still give exact spans for 100 kB messages afterwards:
its "copy every byte" flag and its HTTP/2 state (HPACK tables) must not be what the
flood pushes out. The socket hooks only (make integration runs them; kernels >= 6.4):
with the syscall tracepoints the flag lives in an LRU map keyed by inode, which such
a flood can still push out (see full_payload in bpf/capture.bpf.h).
"""
from itlib.procs import CommandedProc, now_us, python_app
from test_grpc import LARGE, check_both_sides, connect, run

FLOOD = 70000


def test_flood_of_dropped_connections_spares_an_idle_channel(sockspan, grpc_server, grpc_client):
    srv, cli = grpc_server(), grpc_client()
    flood = CommandedProc(python_app("preface_flood.py", name="preface_flood"), "ready")
    try:
        with sockspan("-p", srv.pid, "-p", cli.pid, "-p", flood.pid) as ss:
            t0 = now_us()
            local = connect(cli, srv)
            run(cli, LARGE)
            assert flood._call(op="flood", n=FLOOD) == {"sockets": FLOOD}
            run(cli, LARGE)
            t1 = now_us()
    finally:
        flood.stop()
    assert not [s for s in ss.spans if s.get("tags", {}).get("process.pid") == str(flood.pid)]
    check_both_sides([s for s in ss.spans if s.get("tags", {}).get("process.pid") != str(flood.pid)],
                     LARGE + LARGE, srv, cli, local, (t0, t1))
