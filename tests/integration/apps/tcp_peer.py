"""A TCP end driven over stdin, on raw file descriptors, run as its own process so a
capture can trace it by pid: for tests of what the kernel side reports about a
connection's life (which end it is, when it is over).

    tcp_peer.py [--comm NAME]

Prints "ready", then one JSON command per stdin line, one JSON reply each:

    {"op": "listen"}                  -> {"port": N}   (127.0.0.1, any port)
    {"op": "accept"}                  -> {"fd": N, "ino": socket inode}
    {"op": "connect", "port": P}      -> {"fd": N, "ino": ...}
    {"op": "send", "fd": N, "data": S}-> {}
    {"op": "recv", "fd": N, "n": K}   -> {"data": S}  (K bytes, fewer at end of stream)
    {"op": "pingpong", "a": N, "b": M, "n": K, "size": S} -> {}  (K times: S bytes written
                                         to fd N, then read from fd M)
    {"op": "dup", "fd": N}            -> {"fd": M}
    {"op": "take", "pid": P, "fd": N} -> {"fd": M}   (a copy of process P's fd N: pidfd_getfd)
    {"op": "close", "fd": N}          -> {}
    {"op": "exit"}                    -> {} and exit 0
"""
import argparse
import ctypes
import os
import socket

from applib import serve_commands, set_comm

LIBC = ctypes.CDLL(None, use_errno=True)
SYS_PIDFD_GETFD = 438  # the same number on every architecture (Linux 5.6)


class Peer:
    def __init__(self):
        self.listener = None

    def listen(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        return {"port": self.listener.getsockname()[1]}

    def accept(self):
        fd = self.listener.accept()[0].detach()
        return {"fd": fd, "ino": os.fstat(fd).st_ino}

    def connect(self, port):
        s = socket.create_connection(("127.0.0.1", port))
        fd = s.detach()
        return {"fd": fd, "ino": os.fstat(fd).st_ino}

    def send(self, fd, data):
        os.write(fd, data.encode())
        return {}

    def recv(self, fd, n):
        got = b""
        while len(got) < n:
            more = os.read(fd, n - len(got))
            if not more:
                break
            got += more
        return {"data": got.decode()}

    def pingpong(self, a, b, n, size):
        data = b"x" * size
        for _ in range(n):
            os.write(a, data)
            got = 0
            while got < size:
                got += len(os.read(b, size - got))
        return {}

    def dup(self, fd):
        return {"fd": os.dup(fd)}

    def take(self, pid, fd):
        pidfd = os.pidfd_open(pid)
        try:
            got = LIBC.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
            if got < 0:
                raise OSError(ctypes.get_errno(), f"pidfd_getfd({pid}, {fd})")
        finally:
            os.close(pidfd)
        return {"fd": got}

    def close(self, fd=None):
        if fd is not None:
            os.close(fd)
        elif self.listener:
            self.listener.close()
        return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--comm", default="tcp-peer")
    set_comm(ap.parse_args().comm)
    return serve_commands(Peer())


if __name__ == "__main__":
    raise SystemExit(main())
