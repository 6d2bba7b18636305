"""What the kernel side reports about a connection's life, on both capture paths:
which end each process is (the role: the connection was seen from its start) and
when the connection is over (one close event, after its bytes). Recorded raw by
tests/bench/record_events (the capture library alone, no parsing), read back here.

With the socket hooks these come from TCP's state changes, not from the connect,
accept and close syscalls: no syscall tracepoint is attached at all, so untraced
processes' syscalls do not take the kernel's slow path.
"""
import gzip
import signal
import struct
from pathlib import Path

import pytest

from itlib.bpfobjs import bpftool
from itlib.procs import STEP_TIMEOUT, Proc, wait_until

RECORD = Path(__file__).resolve().parents[2] / "build" / "bench" / "record_events"

# struct ss_event (include/sockspan_event.h), host order.
EVENT = struct.Struct("<QQQIIiIIIBBBBHH16s16s16s")
FIELDS = ("ts_ns", "cgroup_id", "sock_ino", "tgid", "tid", "fd", "seq", "len", "cap_len",
          "type", "dir", "role", "family", "lport", "rport", "laddr", "raddr", "comm")
DATA, CLOSE = 1, 3
EGRESS, INGRESS = 0, 1
UNKNOWN, CLIENT, SERVER = 0, 1, 2


def read_events(path):
    data = gzip.decompress(path.read_bytes())
    assert data[:4] == b"SSEV", "not an event file"
    events, off = [], 8
    while off < len(data):
        size, _ = struct.unpack_from("<II", data, off)
        ev = dict(zip(FIELDS, EVENT.unpack_from(data, off + 8)))
        ev["payload"] = data[off + 8 + EVENT.size:off + 8 + EVENT.size + ev["cap_len"]]
        events.append(ev)
        off += 8 + ((size + 7) & ~7)
    return events


class Recording:
    """record_events running; stop() returns the events it recorded."""

    def __init__(self, out, hooks, *select):
        """select: ["--cgroup", id] or pids."""
        if not RECORD.exists():
            raise AssertionError(f"{RECORD} is missing: make builds it")
        self.out = out
        cgroup, pids = (select, []) if select and select[0] == "--cgroup" else ([], select)
        self.proc = Proc([RECORD, "--hooks", hooks, *cgroup, out, *pids], "record_events", stdin=False)
        wait_until(lambda: "ready" in self.proc.err.text() or not self.proc.running(),
                   STEP_TIMEOUT, "record_events to attach")
        assert self.proc.running(), self.proc.err.text()

    def stop(self):
        self.proc.stop(signal.SIGINT)
        assert self.proc.popen.returncode == 0, self.proc.err.text()
        return read_events(self.out)


def life(events, tgid, ino):
    """(type, dir, role, payload) of one process's events on one socket, in order."""
    return [(e["type"], e["dir"], e["role"], e["payload"]) for e in events
            if e["tgid"] == tgid and e["sock_ino"] == ino]


def exchange(cli, srv, port):
    """A connection opened under capture: ping, pong, the client closes first."""
    c = cli.connect(port=port)
    s = srv.accept()
    cli.send(fd=c["fd"], data="ping")
    assert srv.recv(fd=s["fd"], n=4)["data"] == "ping"
    srv.send(fd=s["fd"], data="pong")
    assert cli.recv(fd=c["fd"], n=4)["data"] == "pong"
    cli.close(fd=c["fd"])
    assert srv.recv(fd=s["fd"], n=1)["data"] == ""
    srv.close(fd=s["fd"])
    return c["ino"], s["ino"]


@pytest.mark.parametrize("listen", ["before", "after"])
@pytest.mark.parametrize("select", ["pid", "cgroup"])
@pytest.mark.parametrize("hooks", ["socket", "syscalls"])
def test_roles_and_one_close_after_the_bytes(hooks, select, listen, peers, pod_cgroup, tmp_path):
    """Each end's events say which end it is, and its socket's last event is its one close.
    With the socket hooks the server's role is decided outside its context, in the softirq
    that completes the handshake: under the cgroup filter by the socket's cgroup, under the
    pid filter by its listener, marked as a traced process's when it listens or, for one it
    held already (listen "before"), when the capture starts."""
    cli, srv = peers(), peers()
    if select == "cgroup":
        for p in (cli, srv):
            (pod_cgroup / "cgroup.procs").write_text(str(p.pid))
        args = ["--cgroup", str(pod_cgroup.stat().st_ino)]
    else:
        args = [str(cli.pid), str(srv.pid)]
    if listen == "before":
        port = srv.listen()["port"]  # the listener, hence the accepted socket, in the pod
    rec = Recording(tmp_path / "ev.ssev.gz", hooks, *args)
    if listen == "after":
        port = srv.listen()["port"]
    c_ino, s_ino = exchange(cli, srv, port)
    events = rec.stop()
    assert life(events, cli.pid, c_ino) == [(DATA, EGRESS, CLIENT, b"ping"), (DATA, INGRESS, CLIENT, b"pong"),
                                            (CLOSE, EGRESS, CLIENT, b"")]
    assert life(events, srv.pid, s_ino) == [(DATA, INGRESS, SERVER, b"ping"), (DATA, EGRESS, SERVER, b"pong"),
                                            (CLOSE, EGRESS, SERVER, b"")]


@pytest.mark.parametrize("hooks", ["socket", "syscalls"])
def test_connections_of_untraced_listeners_have_no_role(hooks, peers, tmp_path):
    """Under the pid filter, a connection an untraced process accepted is left alone when
    the handshake completes (the socket hooks gave every accepted socket of the node a
    role, and storage with it): a traced process that later takes its fd has it traced
    from its first bytes, its role unknown."""
    cli, srv, taker = peers(), peers(), peers()
    rec = Recording(tmp_path / "ev.ssev.gz", hooks, taker.pid)
    port = srv.listen()["port"]
    c = cli.connect(port=port)
    s = taker.take(pid=srv.pid, fd=srv.accept()["fd"])
    cli.send(fd=c["fd"], data="ping")
    assert taker.recv(fd=s["fd"], n=4)["data"] == "ping"
    taker.send(fd=s["fd"], data="pong")
    assert cli.recv(fd=c["fd"], n=4)["data"] == "pong"
    events = rec.stop()
    ino = [e["sock_ino"] for e in events if e["tgid"] == taker.pid]
    assert ino, "the taker's bytes were not captured"
    assert life(events, taker.pid, ino[0]) == [(DATA, INGRESS, UNKNOWN, b"ping"), (DATA, EGRESS, UNKNOWN, b"pong")]


def test_untraced_and_outside_the_cgroup_make_no_event(peers, pod_cgroup, tmp_path):
    """The same exchange between processes outside the traced cgroup: nothing at all, not
    even the close or the roles decided in softirq."""
    cli, srv = peers(), peers()
    port = srv.listen()["port"]
    rec = Recording(tmp_path / "ev.ssev.gz", "socket", "--cgroup", str(pod_cgroup.stat().st_ino))
    exchange(cli, srv, port)
    events = rec.stop()
    assert [e for e in events if e["tgid"] in (cli.pid, srv.pid)] == []


def test_close_of_one_of_two_fds_does_not_end_the_connection(peers, tmp_path):
    """With the socket hooks a close event means the socket is gone: closing one fd of a
    dup()ed socket is not the end; the last close is. (The syscall tracepoints see each
    close() of an fd and report each.)"""
    cli, srv = peers(), peers()
    port = srv.listen()["port"]
    rec = Recording(tmp_path / "ev.ssev.gz", "socket", cli.pid)
    c = cli.connect(port=port)
    s = srv.accept()
    dup = cli.dup(fd=c["fd"])["fd"]
    cli.close(fd=c["fd"])
    cli.send(fd=dup, data="ping")
    assert srv.recv(fd=s["fd"], n=4)["data"] == "ping"
    srv.send(fd=s["fd"], data="pong")
    assert cli.recv(fd=dup, n=4)["data"] == "pong"
    cli.close(fd=dup)
    events = rec.stop()
    assert life(events, cli.pid, c["ino"]) == [(DATA, EGRESS, CLIENT, b"ping"), (DATA, INGRESS, CLIENT, b"pong"),
                                               (CLOSE, EGRESS, CLIENT, b"")]


@pytest.mark.parametrize("hooks", ["socket", "syscalls"])
def test_syscall_tracepoints_attached_only_by_the_syscall_path(hooks, sockspan, peers):
    """A syscall tracepoint, once attached, sends every syscall of every process on the
    node through the kernel's slow path: the socket hooks attach none, only BTF
    tracepoints of the socket layer, TCP and (with --pid) process exits."""
    p = peers()
    with sockspan("--hooks", hooks, "-p", p.pid) as ss:
        mine = [e for e in bpftool("perf", "show") if e.get("pid") == ss.proc.pid]
    attached = {(e["fd_type"], e["tracepoint"]) for e in mine}
    if hooks == "socket":
        assert attached == {("raw_tracepoint", tp) for tp in (
            "sock_send_length", "sock_recv_length", "inet_sock_set_state", "tcp_destroy_sock",
            "sched_process_exit")}
    else:
        assert {("tracepoint", "sys_enter_close"), ("tracepoint", "sys_exit_read")} <= attached, attached
