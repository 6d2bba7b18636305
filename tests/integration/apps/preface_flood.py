"""A hostile tracee for the kernel's per-socket flags: on command, opens N loopback
connections (to its own listener, in a thread), writes the HTTP/2 client preface on
each (which asks the capture to copy every byte of that socket) and drops the socket
with dup2, not close, so no close() tells the capture it is gone.

    {"op": "flood", "n": N} -> {"sockets": N}
"""
import os
import socket
import sys
import threading

from applib import serve_commands, set_comm

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


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

    def flood(self, n):
        for _ in range(n):
            s = socket.create_connection(self.listener.getsockname())
            s.sendall(PREFACE)
            self._drop(s)
        return {"sockets": n}

    def close(self):
        self.listener.close()


if __name__ == "__main__":
    set_comm("it-flood")
    sys.exit(serve_commands(Flood()))
