"""Redis client driven over stdin, its own process so sockspan can trace it by pid.

    redis_driver.py [--comm NAME]

Prints "ready", then reads one JSON command per stdin line and answers each
with one JSON line, so a test can start it, start sockspan on its pid, and
only then say what to do. Commands (results are repr() strings, errors the
Redis error message; strings over 1000 bytes are shown as "<N bytes>"):

    {"op": "connect", "port": P, "protocol": 2}
        redis-py (python3-redis 4.3.4) with one connection, used by every
        command and pipeline after  -> {"lport": N}
    {"op": "connect", "port": P, "protocol": 3}
        a plain socket that sends HELLO 3 (redis-py 4.3.4 speaks RESP2 only)
        -> {"lport": N, "hello": ...}
    {"op": "commands", "cmds": [["SET", "k", "v"], ...]}
        one after the other, each waiting for its reply
        -> {"results": [{"ok": ...} or {"error": ...}, ...], "pushes": [...]}
        (pushes: RESP3 out-of-band values read meanwhile)
    {"op": "pipeline", "cmds": [...], "transaction": false}
        redis-py pipeline: all written at once, replies read after
        -> {"results": [...]}
    {"op": "subscribe", "port": P, "channels": [...]}
        redis-py PubSub on a connection of its own, waits for the
        confirmations  -> {"lport": N, "confirmations": [...]}
    {"op": "messages", "n": K}  the next K pub/sub messages  -> {"messages": [...]}
    {"op": "unsubscribe"}       UNSUBSCRIBE without channels, waits for the
                                confirmations  -> {"confirmations": [...]}
    {"op": "exit"}              -> {} and exit 0
Any failure answers {"error": "..."}.
"""
import argparse
import socket
import sys

import redis
from applib import serve_commands, set_comm

TIMEOUT = 30


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Push(list):
    """A RESP3 push ('>'): out of band, not the reply to a command."""


class RespError(Exception):
    pass


def read_value(f):
    """One RESP2/RESP3 value from a buffered socket file."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError(f"connection closed or bad line {line!r}")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"("):
        return rest.decode()
    if t in (b"-",):
        return RespError(rest.decode())
    if t == b":":
        return int(rest)
    if t == b",":
        return float(rest)
    if t == b"#":
        return rest == b"t"
    if t == b"_":
        return None
    if t in (b"$", b"!", b"="):
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return RespError(data.decode()) if t == b"!" else data.decode(errors="replace")
    if t in (b"*", b"~", b">"):
        n = int(rest)
        items = [] if n < 0 else [read_value(f) for _ in range(n)]
        return Push(items) if t == b">" else items
    if t == b"%":
        return {str(read_value(f)): read_value(f) for _ in range(int(rest))}
    if t == b"|":
        for _ in range(2 * int(rest)):
            read_value(f)
        return read_value(f)
    raise ConnectionError(f"unknown RESP type {line!r}")


def result(v):
    if isinstance(v, (RespError, redis.ResponseError)):
        return {"error": str(v)}
    if isinstance(v, (bytes, str)) and len(v) > 1000:
        return {"ok": f"<{len(v)} bytes>"}
    return {"ok": repr(v)}


class Driver:
    def __init__(self):
        self.r = None       # redis-py client (RESP2)
        self.sock = None    # plain socket (RESP3)
        self.file = None
        self.pubsub = None

    def connect(self, port, protocol=2):
        if protocol == 2:
            # One connection for commands and pipelines alike: a pool of one, connected now.
            pool = redis.ConnectionPool(host="127.0.0.1", port=port, max_connections=1, socket_timeout=TIMEOUT)
            self.r = redis.Redis(connection_pool=pool)
            conn = pool.get_connection("_")
            lport = conn._sock.getsockname()[1]
            pool.release(conn)
            return {"lport": lport}
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rb")
        self.sock.sendall(encode(["HELLO", 3]))
        hello = read_value(self.file)
        return {"lport": self.sock.getsockname()[1], "hello": repr(hello)}

    def commands(self, cmds):
        results, pushes = [], []
        for c in cmds:
            if self.sock:
                self.sock.sendall(encode(c))
                v = read_value(self.file)
                while isinstance(v, Push):
                    pushes.append(repr(v))
                    v = read_value(self.file)
            else:
                try:
                    v = self.r.execute_command(*c)
                except redis.ResponseError as e:
                    v = e
            results.append(result(v))
        return {"results": results, "pushes": pushes}

    def pipeline(self, cmds, transaction=False):
        p = self.r.pipeline(transaction=transaction)
        for c in cmds:
            p.execute_command(*c)
        return {"results": [result(v) for v in p.execute(raise_on_error=False)]}

    def _confirmations(self, n):
        got = []
        while len(got) < n:
            m = self.pubsub.get_message(timeout=TIMEOUT)
            if m is None:
                raise TimeoutError(f"{len(got)} of {n} pub/sub confirmations")
            got.append([m["type"], repr(m["channel"]), m["data"]])
        return got

    def subscribe(self, port, channels):
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=TIMEOUT)
        self.pubsub = client.pubsub()
        self.pubsub.subscribe(*channels)
        lport = self.pubsub.connection._sock.getsockname()[1]
        return {"lport": lport, "confirmations": self._confirmations(len(channels))}

    def messages(self, n):
        got = []
        while len(got) < n:
            m = self.pubsub.get_message(timeout=TIMEOUT)
            if m is None:
                raise TimeoutError(f"{len(got)} of {n} pub/sub messages")
            got.append([m["type"], m["channel"].decode(), m["data"].decode()])
        return {"messages": got}

    def unsubscribe(self):
        n = len(self.pubsub.channels)
        self.pubsub.unsubscribe()
        return {"confirmations": self._confirmations(n)}

    def close(self):
        if self.r:
            self.r.close()
        if self.pubsub:
            self.pubsub.close()
        if self.sock:
            self.file.close()
            self.sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--comm", default="it-redis")
    args = ap.parse_args()
    set_comm(args.comm)
    drv = Driver()
    return serve_commands(drv)


if __name__ == "__main__":
    sys.exit(main())
