"""Hostile traffic against a traced server, beside good traffic: sockspan stays
within its memory budget, says what it gave up, and the good requests still
get their spans."""
import socket

from itlib.collector import http_get, scrape
from itlib.procs import STEP_TIMEOUT, free_port, wait_until

LO = "127.0.0.1"
LIMIT_MB = 16
HEAD = 60_000  # an HTTP/1 head that never ends: buffered, up to the parser's 64 KiB bound


def test_memory_budget_sheds_the_costliest_connections(sockspan, py_server, driver):
    mport = free_port()
    d = driver()
    with sockspan("-p", py_server.pid, "--memory-limit", LIMIT_MB, "--metrics", f"{LO}:{mport}") as ss:
        assert http_get(f"http://{LO}:{mport}/healthz")[0] == 200
        # 400 heads of 60 kB held open: ~24 MB buffered if nothing gave way.
        hostile = []
        for i in range(400):
            s = socket.create_connection((LO, py_server.port), timeout=STEP_TIMEOUT)
            s.sendall(b"GET /x HTTP/1.1\r\nX-Pad: " + b"a" * HEAD)
            hostile.append(s)
        wait_until(lambda: scrape(mport)["sockspan_connections_shed_total", {}] > 0, STEP_TIMEOUT,
                   "connections shed for memory")
        wait_until(lambda: scrape(mport)["sockspan_heap_bytes", {}] <= LIMIT_MB << 20, STEP_TIMEOUT,
                   f"the heap back under {LIMIT_MB} MiB")
        # A good request beside them gets its span.
        lport = d.connect(LO, py_server.port)
        assert [r["status"] for r in d.requests([("GET", "/status/200")])] == [200]
        for s in hostile:
            s.close()
    good = [s for s in ss.spans if s["kind"] == "SERVER" and s["remoteEndpoint"].get("port") == lport]
    assert [s["name"] for s in good] == ["get /status/{id}"]


GARBAGE = {
    "random binary": bytes(range(256)) * 64,
    "TLS ClientHello": bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00",
    "1 MiB request line": b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "10,000 headers": b"GET /h HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(10_000)) + b"\r\n",
    "bogus HTTP/2 frames": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 9 + bytes(range(200)),
    "RESP array of 2^31": b"*2147483647\r\n$3\r\nGET\r\n",
}


def send_garbage(port, data):
    with socket.create_connection((LO, port), timeout=STEP_TIMEOUT) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass  # the server may hang up mid-way: what it read is what sockspan saw


def test_garbage_makes_no_span_and_good_requests_keep_theirs(sockspan, py_server, driver):
    d = driver()
    with sockspan("-p", py_server.pid) as ss:
        lport = d.connect(LO, py_server.port)
        for name, data in GARBAGE.items():
            send_garbage(py_server.port, data)
            assert [r["status"] for r in d.requests([("GET", "/status/200")])] == [200], name
    servers = [s for s in ss.spans if s["kind"] == "SERVER"]
    assert [s["remoteEndpoint"].get("port") for s in servers] == [lport] * len(GARBAGE), servers
    assert {s["name"] for s in servers} == {"get /status/{id}"}
