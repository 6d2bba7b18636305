"""A traced process that floods sockspan's per-connection state, beside a gRPC channel.

it-flood opens 140,000 loopback connections one after another, each starting as HTTP/2
(so the capture copies every byte of it) and each dropped with dup2 instead of close(),
so nothing tells sockspan it is gone: more connections than sockspan's table (65,536)
and the kernel's map of "copy every byte" flags (131,072) hold. A gRPC channel opened
before the flood and idle during it must still give exact spans for 100 kB messages
afterwards: its flag and its HTTP/2 state (HPACK tables) must not be what the flood
pushes out. Both starts: the client preface, flagged by the kernel (on the socket
itself with the socket hooks, in the map with the syscall tracepoints), and a bare
SETTINGS frame, flagged by userspace in the map (as connections joined mid-stream
are). Both capture paths (make integration, make integration-syscalls).
"""
import pytest
from itlib.procs import CommandedProc, now_us, python_app
from test_grpc import AFTER_ATTACH, LARGE, check_both_sides, connect, run

FLOOD = 140000


@pytest.mark.parametrize("start", ["preface", "frames"])
def test_flood_of_dropped_connections_spares_an_idle_channel(sockspan, grpc_server, grpc_client, start):
    # With "frames" the channel's flag too is set by userspace: sockspan joins it
    # mid-stream (HPACK tables off both ways, so its later calls can be decoded).
    joined = start == "frames"
    srv, cli = (grpc_server(hpack_table=0) if joined else grpc_server()), grpc_client()
    first = AFTER_ATTACH[:1] if joined else LARGE
    flood = CommandedProc(python_app("preface_flood.py", name="preface_flood"), "ready")
    try:
        if joined:
            local = connect(cli, srv, hpack_table=0)
            run(cli, first)
        with sockspan("-p", srv.pid, "-p", cli.pid, "-p", flood.pid) as ss:
            t0 = now_us()
            if not joined:
                local = connect(cli, srv)
            run(cli, first)
            assert flood._call(op="flood", n=FLOOD, start=start) == {"sockets": FLOOD}
            run(cli, LARGE)
            t1 = now_us()
    finally:
        flood.stop()
    assert not [s for s in ss.spans if s.get("tags", {}).get("process.pid") == str(flood.pid)]
    check_both_sides([s for s in ss.spans if s.get("tags", {}).get("process.pid") != str(flood.pid)],
                     first + LARGE, srv, cli, local, (t0, t1))
