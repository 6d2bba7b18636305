#!/usr/bin/python3
"""Records real HTTP/2 conversations for tests/unit/test_h2_session.c.

A loopback relay between a real client and a real server writes every chunk
it reads, in order, as: direction (1 byte: 0 client->server, 1 server->client),
length (4 bytes, big-endian), bytes. A chunk is what one recv() returned, so
the recordings keep the peers' own write boundaries.

    /usr/bin/python3 tests/data/h2/record.py   # rewrites the *.rec files here

Peers: nghttp and nghttpd (nghttp2-client, nghttp2-server), curl and h2o
(h2c upgrade: nghttpd does not offer it), python3-grpcio.
"""
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay(threading.Thread):
    """Accepts one connection on its port and relays it to target, recording."""

    def __init__(self, target_port, out_path):
        super().__init__(daemon=True)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.target_port = target_port
        self.out_path = out_path

    def run(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", self.target_port))
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ, (0, s))
        sel.register(s, selectors.EVENT_READ, (1, c))
        with open(self.out_path, "wb") as out:
            open_ends = 2
            while open_ends:
                for key, _ in sel.select():
                    d, peer = key.data
                    data = key.fileobj.recv(65536)
                    if not data:
                        sel.unregister(key.fileobj)
                        open_ends -= 1
                        try:
                            peer.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    out.write(struct.pack(">BI", d, len(data)) + data)
                    peer.sendall(data)
        c.close()
        s.close()


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("server did not start")


def record_nghttp(name, args, docroot):
    port = free_port()
    srv = subprocess.Popen(["nghttpd", "--no-tls", "-d", docroot, str(port)])
    try:
        wait_port(port)
        relay = Relay(port, os.path.join(HERE, name))
        relay.start()
        base = "http://127.0.0.1:%d" % relay.port
        subprocess.run(["nghttp"] + args + [base + p for p in ("/index.html", "/a/1", "/missing", "/big")],
                       check=True, stdout=subprocess.DEVNULL)
        relay.join(5)
    finally:
        srv.terminate()
        srv.wait()


H2O_CONF = """listen:
  host: 127.0.0.1
  port: %d
hosts:
  default:
    paths:
      /:
        file.dir: %s
"""


def tmp_of(docroot):
    return os.path.dirname(docroot)


def record_upgrade(name, docroot):
    port = free_port()
    conf = os.path.join(docroot, "..", "h2o.conf")
    with open(conf, "w") as f:
        f.write(H2O_CONF % (port, docroot))
    os.chmod(tmp_of(docroot), 0o755)  # h2o runs as nobody
    srv = subprocess.Popen(["h2o", "-c", conf], stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        relay = Relay(port, os.path.join(HERE, name))
        relay.start()
        base = "http://127.0.0.1:%d" % relay.port
        subprocess.run(["curl", "-sS", "--http2", "-o", "/dev/null", "-o", "/dev/null", base + "/index.html",
                        base + "/missing"], check=True)
        relay.join(5)
    finally:
        srv.terminate()
        srv.wait()


GRPC_SERVER = r'''
import sys, grpc
from concurrent import futures
def unary(req, ctx):
    if req == b"fail":
        ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing: 100%")
    return b"echo:" + req
def server_stream(req, ctx):
    for i in range(3):
        yield b"part%d" % i
def client_stream(it, ctx):
    return b"+".join(it)
def bidi(it, ctx):
    for m in it:
        yield m.upper()
h = grpc.method_handlers_generic_handler("demo.Echo", {
    "Say": grpc.unary_unary_rpc_method_handler(unary),
    "Parts": grpc.unary_stream_rpc_method_handler(server_stream),
    "Join": grpc.stream_unary_rpc_method_handler(client_stream),
    "Shout": grpc.stream_stream_rpc_method_handler(bidi),
})
s = grpc.server(futures.ThreadPoolExecutor(4))
s.add_generic_rpc_handlers((h,))
s.add_insecure_port("127.0.0.1:" + sys.argv[1])
s.start()
s.wait_for_termination()
'''

GRPC_CLIENT = r'''
import sys, grpc
ch = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
say = ch.unary_unary("/demo.Echo/Say")
print(say(b"hello"))
try:
    say(b"fail")
except grpc.RpcError as e:
    print(e.code())
print(list(ch.unary_stream("/demo.Echo/Parts")(b"x")))
print(ch.stream_unary("/demo.Echo/Join")(iter([b"a", b"bb", b"ccc"])))
print(list(ch.stream_stream("/demo.Echo/Shout")(iter([b"x", b"yz"]))))
ch.close()
'''


def record_grpc(name):
    port = free_port()
    srv = subprocess.Popen(["/usr/bin/python3", "-c", GRPC_SERVER, str(port)])
    try:
        wait_port(port)
        relay = Relay(port, os.path.join(HERE, name))
        relay.start()
        subprocess.run(["/usr/bin/python3", "-c", GRPC_CLIENT, str(relay.port)], check=True)
        relay.join(5)
    finally:
        srv.terminate()
        srv.wait()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        docroot = os.path.join(tmp, "www")
        os.makedirs(docroot)
        with open(os.path.join(docroot, "index.html"), "w") as f:
            f.write("<html>hello</html>\n")
        os.makedirs(os.path.join(docroot, "a"))
        with open(os.path.join(docroot, "a", "1"), "w") as f:
            f.write("one\n")
        with open(os.path.join(docroot, "big"), "wb") as f:
            f.write(bytes(range(256)) * 160)  # 40 KiB: several DATA frames
        record_nghttp("nghttp_prior.rec", ["-n"], docroot)
        record_upgrade("curl_h2o_upgrade.rec", docroot)
    record_grpc("grpc_calls.rec")


if __name__ == "__main__":
    main()
