"""--raw (#10): every captured chunk of the traced processes on stdout, secrets masked.

One sockspan --raw per test, tracing one server by pid, while this test process is the
client (so it knows every byte it sent, and its own port):
    http1   it-httpd (apps/http_server.py): a request carrying Authorization and Cookie;
            the exact header lines of the request, the response and the close, and the exact
            dump of the request with both values as '*'; --raw-bytes 16 cuts the dump
    h2      nghttpd, nghttp with an authorization header: every HEADERS payload read back
            from the dump is '*', DATA is shown
    redis   redis-server with requirepass: AUTH and HELLO ... AUTH arguments as '*'
The secrets appear nowhere on stdout, neither as text nor as hex.
"""
import os
import re
import socket

from itlib.apps import SERVER_COMM, PyServer
from itlib.h2 import DOCS, Nghttpd, nghttp
from itlib.procs import STEP_TIMEOUT, wait_until
from itlib.redis_env import RedisServer, redis_cli
from itlib.sockspan import Sockspan, run_cli

SECRETS = [b"SECRET123", b"SECRET456", b"SECRET789"]
HEADER = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (.+)$")
DUMP = re.compile(r"^  ([0-9a-f]{4})  ((?:[0-9a-f]{2} ?| {3}| )+?)  \|(.*)\|$")
NOT_SHOWN = re.compile(r"^  \+(\d+) bytes not shown \(--raw-bytes (\d+)\)$")


def dump_lines(data, limit):
    """What sockspan prints for these (already masked) bytes: 16 a line, hex then ASCII."""
    lines = []
    for off in range(0, min(len(data), limit), 16):
        row = data[off:min(off + 16, limit)]
        hexes = "".join((" " if k == 8 else "") + (f"{row[k]:02x} " if k < len(row) else "   ")
                        for k in range(16))[:-1]
        text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in row)
        lines.append(f"  {off:04x}  {hexes}  |{text}|")
    if len(data) > limit:
        lines.append(f"  +{len(data) - limit} bytes not shown (--raw-bytes {limit})")
    return lines


def chunks(lines):
    """[(header without its time, bytes dumped)] in order; every line must be one of the formats."""
    out = []
    for line in lines:
        m = HEADER.match(line)
        if m:
            out.append([m.group(2), b""])
            continue
        m = DUMP.match(line)
        assert (m or NOT_SHOWN.match(line)) and out, f"not a --raw line: {line!r}"
        if m:
            assert int(m.group(1), 16) == len(out[-1][1]), f"offset out of step: {line!r}"
            out[-1][1] += bytes.fromhex(m.group(2).replace(" ", ""))
    return [tuple(c) for c in out]


def assert_no_secret(lines):
    text = "\n".join(lines)
    for s in SECRETS:
        assert s.decode() not in text and s.hex() not in text.replace(" ", ""), f"{s} shown:\n{text}"


def fd_of(pid, lport, rport):
    """The fd of pid's TCP socket from local port lport to remote port rport (IPv4)."""
    inode = None
    with open("/proc/net/tcp") as f:
        for row in f.readlines()[1:]:
            cols = row.split()
            if int(cols[1].split(":")[1], 16) == lport and int(cols[2].split(":")[1], 16) == rport:
                inode = cols[9]
    assert inode, f"no socket {lport} -> {rport} in /proc/net/tcp"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
            return int(fd)
    raise AssertionError(f"pid {pid} holds no socket:[{inode}]")


def exchange(port, request, until):
    """Sends request in one write on a fresh connection, reads until until(reply) holds.
    Returns (local port, reply, the socket, still open)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    s.sendall(request)
    reply = b""
    while not until(reply):
        data = s.recv(65536)
        assert data, f"connection closed after {reply!r}"
        reply += data
    return s.getsockname()[1], reply, s


def wait_for_chunks(ss, n):
    wait_until(lambda: len([l for l in ss.proc.out.transcript if HEADER.match(l)]) >= n, STEP_TIMEOUT,
               f"{n} --raw header lines on stdout")


REQUEST = (b"GET /status/200?q=visible HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET123\r\n"
           b"Cookie: a=SECRET456\r\n\r\n")
MASKED = (b"GET /status/200?q=visible HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"*" * 16 + b"\r\n"
          b"Cookie: " + b"*" * 11 + b"\r\n\r\n")


def http1_run(tmp_path, raw_bytes):
    """One request and its response on a connection the client then closes; checks the
    header lines (the response may come in several writes) and returns (chunks, lines)."""
    srv = PyServer()
    try:
        with Sockspan(["--raw", "--raw-bytes", raw_bytes, "-p", srv.pid], tmp_path, output="text") as ss:
            lport, reply, s = exchange(srv.port, REQUEST, lambda r: r.endswith(b"status 200\n"))
            fd = fd_of(srv.pid, srv.port, lport)
            s.close()
            wait_until(lambda: any(l.endswith(" close") for l in ss.proc.out.transcript), STEP_TIMEOUT,
                       "the close on stdout")
    finally:
        srv.stop()
    lines = ss.stdout_lines
    got = chunks(lines)
    first = f"{SERVER_COMM} pid {srv.pid} fd {fd} 127.0.0.1:{srv.port} {{}} 127.0.0.1:{lport} http1"
    writes = [h for h, _ in got[1:-1]]
    assert got[0][0] == f"{first.format('<')} len {len(REQUEST)} captured {len(REQUEST)}", "\n".join(lines)
    assert got[-1] == (f"{first.format('-')} close", b""), "\n".join(lines)
    sizes = [int(h.split(" len ")[1].split()[0]) for h in writes]
    assert writes == [f"{first.format('>')} len {n} captured {n}" for n in sizes], "\n".join(lines)
    assert sum(sizes) == len(reply), "\n".join(lines)
    assert_no_secret(lines)
    return got, lines, reply


def test_http1_request_dumped_with_secrets_masked(tmp_path):
    got, lines, reply = http1_run(tmp_path, 65536)
    assert got[0][1] == MASKED and lines[1:1 + len(dump_lines(MASKED, 65536))] == dump_lines(MASKED, 65536)
    assert b"".join(d for _, d in got[1:-1]) == reply
    assert b"q=visible" in got[0][1], "query strings are not masked"


def test_raw_bytes_limits_the_dump(tmp_path):
    got, lines, reply = http1_run(tmp_path, 16)
    assert lines[1:3] == [
        "  0000  47 45 54 20 2f 73 74 61  74 75 73 2f 32 30 30 3f  |GET /status/200?|",
        f"  +{len(REQUEST) - 16} bytes not shown (--raw-bytes 16)"], "\n".join(lines)
    assert all(len(d) <= 16 for _, d in got)


def h2_frames(data):
    """[(type, payload)] of a run of frames; the client's preface first when there."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    data = data[len(preface):] if data.startswith(preface) else data
    frames = []
    while len(data) >= 9:
        n = int.from_bytes(data[:3], "big")
        frames.append((data[3], data[9:9 + n]))
        data = data[9 + n:]
    assert data == b"", f"the dump does not end on a frame boundary: {data!r}"
    return frames


def test_h2_header_blocks_masked(tmp_path):
    srv = Nghttpd()
    try:
        with Sockspan(["--raw", "--raw-bytes", 65536, "-p", srv.pid], tmp_path, output="text") as ss:
            nghttp(srv.url("/a.txt"), opts=["-H", "authorization: Bearer SECRET123"])
            wait_for_chunks(ss, 3)
        lines = ss.stdout_lines
    finally:
        srv.stop()
    got = chunks(lines)
    ins = b"".join(d for h, d in got if " < " in h)
    outs = b"".join(d for h, d in got if " > " in h)
    assert all(" http2 " in h for h, _ in got), "\n".join(lines)
    frames_in, frames_out = h2_frames(ins), h2_frames(outs)
    headers = [p for t, p in frames_in + frames_out if t in (1, 5, 9)]
    assert len(headers) >= 2 and all(p and set(p) == {ord("*")} for p in headers), "\n".join(lines)
    assert any(t == 0 and p == DOCS["a.txt"] for t, p in frames_out), "DATA stays visible"
    assert any(t == 4 for t, p in frames_in), "SETTINGS stays visible"
    assert_no_secret(lines)


AUTH = b"*2\r\n$4\r\nAUTH\r\n$9\r\nSECRET789\r\n"
HELLO = b"*5\r\n$5\r\nHELLO\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$9\r\nSECRET789\r\n"
PING = b"*1\r\n$4\r\nPING\r\n"


def test_redis_auth_masked(tmp_path):
    srv = RedisServer()
    try:
        assert redis_cli(srv.port, "CONFIG", "SET", "requirepass", "SECRET789") == "OK"
        with Sockspan(["--raw", "-p", srv.pid], tmp_path, output="text") as ss:
            lport, reply, s = exchange(srv.port, AUTH, lambda r: r == b"+OK\r\n")
            fd = fd_of(srv.pid, srv.port, lport)
            for req, done in ((HELLO, lambda r: b"proto" in r and r.endswith(b"\r\n")),
                              (PING, lambda r: r == b"+PONG\r\n")):
                s.sendall(req)
                reply = b""
                while not done(reply):
                    reply += s.recv(65536)
            wait_for_chunks(ss, 6)
            s.close()
        lines = ss.stdout_lines
    finally:
        srv.stop()
    ins = [(h, d) for h, d in chunks(lines) if " < " in h]
    assert ins[:3] == [
        (f"redis-server pid {srv.pid} fd {fd} 127.0.0.1:{srv.port} < 127.0.0.1:{lport} redis "
         f"len {len(r)} captured {len(r)}", m)
        for r, m in ((AUTH, AUTH.replace(b"SECRET789", b"*" * 9)),
                     (HELLO, HELLO.replace(b"\r\n2\r\n", b"\r\n*\r\n").replace(b"\r\nAUTH\r\n$7", b"\r\n****\r\n$7")
                      .replace(b"default", b"*" * 7).replace(b"SECRET789", b"*" * 9)),
                     (PING, PING))], "\n".join(lines)
    assert_no_secret(lines)


def test_raw_options_checked():
    for args, said in ((["--raw-bytes", "16"], "--raw-bytes goes with --raw"),
                       (["--raw", "--raw-bytes", "65537"], "invalid --raw-bytes"),
                       (["--raw", "--view", "lines"], "--raw has stdout to itself"),
                       (["--raw", "-o", "-"], "--raw has stdout to itself")):
        rc, out, err = run_cli(*args)
        assert rc == 2 and said in err and out == "", (args, rc, err)
