"""HTTP/2 frames and HPACK built by hand, for peers no real client would be
(test_hostile_h2.py): floods of streams, DATA anywhere, header fields cut short.

    c = H2Raw(port)              # preface + SETTINGS sent, the server's SETTINGS acknowledged
    c.send(headers(1, request_block("/a.txt"), end_stream=True))
RFC 9113 (frames) and RFC 7541 (HPACK): no Huffman, literals only where needed.
"""
import socket

from .procs import STEP_TIMEOUT

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS, CONTINUATION = 0, 1, 4, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


def headers(stream, block, end_stream=False, end_headers=True):
    return frame(HEADERS, (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0), stream, block)


def hpack_int(value, prefix_bits, first=0):
    """An HPACK integer (RFC 7541 5.1) whose first byte carries the flag bits `first`."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = [first | limit], value - limit
    while value >= 128:
        out.append(0x80 | (value & 0x7f))
        value >>= 7
    return bytes(out + [value])


def hpack_str(s):
    return hpack_int(len(s), 7) + s


def request_block(path, method=b"GET"):
    """:method, :scheme http, :path, :authority from the static table's names, nothing indexed."""
    m = b"\x82" if method == b"GET" else b"\x03" + hpack_str(method)  # 0x03: name :method, not indexed
    return m + b"\x86" + b"\x04" + hpack_str(path) + b"\x01" + hpack_str(b"localhost")


class H2Raw:
    """A prior-knowledge h2c connection from this process: preface and an empty
    SETTINGS sent, the server's first SETTINGS read and acknowledged."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=STEP_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        head = self._read(9)
        assert head[3] == SETTINGS and not head[4] & ACK, f"the server began with {head!r}, not SETTINGS"
        self._read(int.from_bytes(head[:3], "big"))
        self.sock.sendall(frame(SETTINGS, ACK, 0))

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "the server closed the connection"
            data += chunk
        return data

    def send(self, data):
        self.sock.sendall(data)

    def local_port(self):
        return self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def indexed_literal(name, value):
    """Literal with incremental indexing, new name: the decoder's table keeps it."""
    return b"\x40" + hpack_str(name) + hpack_str(value)


def table_size_update(size):
    return hpack_int(size, 5, 0x20)
