"""A hostile tracee for the kernel's per-socket flags: on command, opens N loopback
connections (to its own listener, in a thread), starts each as HTTP/2 (which asks the
capture to copy every byte of that socket) and drops the socket with dup2, not close,
so no close() tells the capture it is gone. start "preface": the client preface, which
the kernel flags itself; "frames": an empty SETTINGS frame and no preface, which only
sockspan's userspace recognizes (as it does connections it joins mid-stream).

    {"op": "flood", "n": N, "start": "preface" | "frames"} -> {"sockets": N}
"""
import os
import socket
import sys
import threading

from applib import serve_commands, set_comm

STARTS = {"preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "frames": bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])}


class Flood:
    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4096)
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        threading.Thread(target=self._accept, daemon=True).start()

    def _drop(self, sock):
        # dup2 closes the socket without a close() on it; the fd, now /dev/null's, is then closed.
        fd = sock.detach()
        os.dup2(self.devnull, fd)
        os.close(fd)

    def _accept(self):
        while True:
            conn, _ = self.listener.accept()
            self._drop(conn)

    def flood(self, n, start="preface"):
        first = STARTS[start]
        for _ in range(n):
            s = socket.create_connection(self.listener.getsockname())
            s.sendall(first)
            self._drop(s)
        return {"sockets": n}

    def close(self):
        self.listener.close()


if __name__ == "__main__":
    set_comm("it-flood")
    sys.exit(serve_commands(Flood()))
