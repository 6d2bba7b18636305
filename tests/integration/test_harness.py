"""The harness itself, without sockspan: if these fail, no other result here means anything."""
import copy
import socket

import pytest
import requests

from itlib.apps import CLIENT_COMM, SERVER_COMM, curl
from itlib.procs import comm_of
from itlib.spans import Row, check, client_row, row_of
from itlib.zipkin import contract_errors, schema_errors

VALID = {
    "traceId": "4e441824ec2b6a44ffdc9bb9a6453df3",
    "id": "ffdc9bb9a6453df3",
    "kind": "SERVER",
    "name": "get /users/{id}",
    "timestamp": 1763765147123456,
    "duration": 1234,
    "localEndpoint": {"serviceName": "python3", "ipv4": "127.0.0.1", "port": 8080},
    "remoteEndpoint": {"ipv4": "127.0.0.1", "port": 51234},
    "tags": {"http.method": "GET", "http.path": "/users/42", "http.status_code": "503",
             "error": "503", "process.pid": "4242"},
}


def mutate(path, value):
    """VALID with the field at path (a tuple of keys) set to value, or removed when value is DELETE."""
    span = copy.deepcopy(VALID)
    target = span
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return span


DELETE = object()


def test_valid_span_passes_schema_and_contract():
    assert schema_errors(VALID) == []
    assert contract_errors(VALID) == []


@pytest.mark.parametrize("path,value", [
    (("traceId",), DELETE),
    (("id",), DELETE),
    (("id",), "ffdc9bb9a6453df"),              # 15 hex
    (("traceId",), "4E441824EC2B6A44FFDC9BB9A6453DF3"),
    (("kind",), "BOGUS"),
    (("duration",), 0),
    (("timestamp",), "1763765147123456"),
    (("localEndpoint", "ipv4"), "999.0.0.1"),
    (("remoteEndpoint", "ipv6"), "not-an-ip"),
    (("localEndpoint", "port"), "8080"),
    (("tags", "http.status_code"), 503),
])
def test_schema_rejects(path, value):
    assert schema_errors(mutate(path, value)) != []


@pytest.mark.parametrize("path,value", [
    (("traceId",), "4e441824ec2b6a44"),          # 64-bit: valid Zipkin, but sockspan promises 128
    (("kind",), DELETE),
    (("name",), "GET /users/{id}"),
    (("name",), "post /users/{id}"),             # disagrees with http.method
    (("timestamp",), DELETE),
    (("localEndpoint", "serviceName"), DELETE),
    (("remoteEndpoint",), DELETE),
    (("localEndpoint", "ipv6"), "::1"),          # both families
    (("tags", "http.path"), "/users/42?x=1"),
    (("tags", "error"), DELETE),                 # 503 without error tag
    (("tags", "process.pid"), DELETE),
])
def test_contract_rejects(path, value):
    span = mutate(path, value)
    assert schema_errors(span) == []
    assert contract_errors(span) != []


def test_contract_rejects_error_tag_below_500():
    span = mutate(("tags", "http.status_code"), "404")
    assert contract_errors(span) != []
    del span["tags"]["error"]
    assert contract_errors(span) == []


def test_check_compares_exact_rows_and_window():
    span = mutate(("kind",), "CLIENT")
    span["localEndpoint"]["serviceName"] = "it-client"
    span["localEndpoint"]["port"], span["remoteEndpoint"]["port"] = 51234, 8080
    want = client_row("get /users/{id}", "/users/42", 503, "it-client", 4242,
                      ("127.0.0.1", 8080), ("127.0.0.1", 51234))
    ts = span["timestamp"]
    check([span], [want], (ts, ts + span["duration"]))
    with pytest.raises(AssertionError):
        check([span], [want._replace(status="200")], (ts, ts + span["duration"]))
    with pytest.raises(AssertionError):
        check([span], [want, want], (ts, ts + span["duration"]))
    with pytest.raises(AssertionError):  # ended 1 s after the window
        check([span], [want], (ts - 2_000_000, ts - 1_000_000))
    assert isinstance(row_of(span), Row)


def test_python_server_routes(py_server):
    assert comm_of(py_server.pid) == SERVER_COMM
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(py_server.url("/status/503?x=1"))
        assert (r.status_code, r.text) == (503, "status 503\n")
        r = s.get(py_server.url("/bytes/100000"))
        assert (r.status_code, len(r.content)) == (200, 100000)
        r = s.get(py_server.url("/chunked/3"))
        assert r.headers["Transfer-Encoding"] == "chunked"
        assert r.text == "chunk 0 of 3\nchunk 1 of 3\nchunk 2 of 3\n"
        r = s.post(py_server.url("/echo"), data=b"abc")
        assert (r.status_code, r.content) == (200, b"abc")
        assert s.get(py_server.url("/nope")).status_code == 404
        r = s.head(py_server.url("/bytes/100"))
        assert (r.status_code, r.headers["Content-Length"], r.content) == (200, "100", b"")
        for code in (204, 304):
            r = s.get(py_server.url(f"/status/{code}"))
            assert (r.status_code, r.content, "Content-Length" in r.headers) == (code, b"", False)
        assert s.get(py_server.url("/status/200")).text == "status 200\n"  # connection still framed
        r = s.get(py_server.url("/close/3000"))
        assert (r.status_code, len(r.content), r.headers["Connection"]) == (200, 3000, "close")
        assert "Content-Length" not in r.headers


def test_python_server_expect_100_continue(py_server):
    """The interim response the 100-continue test relies on really is sent."""
    with socket.create_connection(("127.0.0.1", py_server.port)) as c:
        c.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        f = c.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        c.sendall(b"abc")
        assert f.readline().startswith(b"HTTP/1.1 200 ")


def test_driver_keepalive_and_pipeline(py_server, driver):
    d = driver()
    assert comm_of(d.pid) == CLIENT_COMM
    lport = d.connect("127.0.0.1", py_server.port)
    res = d.requests([("GET", "/status/200"), ("GET", "/bytes/1048576"), ("GET", "/chunked/4"),
                      ("POST", "/echo", 70000), ("GET", "/status/503")])
    assert [(r["status"], r["length"]) for r in res] == [
        (200, 11), (200, 1048576), (200, 52), (200, 70000), (503, 11)]
    assert res[0]["lport"] == lport
    _, res = d.pipeline("127.0.0.1", py_server.port,
                        [("GET", "/status/201"), ("GET", "/bytes/7"), ("GET", "/status/404")])
    assert [(r["status"], r["length"]) for r in res] == [(201, 11), (200, 7), (404, 11)]


def test_ipv6_server(server, driver):
    srv = server("::1")
    d = driver()
    d.connect("::1", srv.port)
    assert [r["status"] for r in d.requests([("GET", "/nope"), ("GET", "/status/202")])] == [404, 202]
    assert [r["status"] for r in curl(srv.url("/status/200"))] == [200]


def test_curl_transfers_share_a_connection(py_server, tmp_path):
    body = tmp_path / "body"
    body.write_bytes(b"x" * 2000)
    rows = curl((py_server.url("/echo"), "--data-binary", f"@{body}", "-H", "Expect: 100-continue"),
                py_server.url("/status/404"))
    assert [(r["status"], r["new_connection"]) for r in rows] == [(200, True), (404, False)]
    assert rows[0]["local_port"] == rows[1]["local_port"]


def test_nginx_serves_on_one_connection(nginx):
    assert comm_of(nginx.worker_pid) == "nginx"
    rows = curl(nginx.url("/small.html"), nginx.url("/big.bin"), nginx.url("/missing.html"),
                nginx.url("/status/503"), nginx.url("/status/201"))
    assert [r["status"] for r in rows] == [200, 200, 404, 503, 201]
    assert [r["new_connection"] for r in rows] == [True, False, False, False, False]
    assert len({r["local_port"] for r in rows}) == 1
    with requests.Session() as s:
        s.trust_env = False
        assert s.get(nginx.url("/small.html")).content == nginx.small
        assert len(s.get(nginx.url("/big.bin")).content) == nginx.big_size
