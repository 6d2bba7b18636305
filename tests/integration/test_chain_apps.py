"""The request-chain harness without the agent: pods, chain services, driver, redis, py_zipkin.

If these fail, no result of test_correlation.py means anything. Each chain here is
driver (pod drv) -> service A (pod a) -> service B (pod b) -> redis-server (pod r); what
each hop received and sent comes back in the JSON answers, so the tests check that every
--propagate mode forwards exactly what it says and that B really asked Redis.
"""
import os
import subprocess

import pytest
import requests

from itlib.chain import COMMS
from itlib.netns import IP, PodNet, cleanup_leftovers, links, namespaces, reachable
from itlib.procs import PYTHON, comm_of
from itlib.zipkin_tree import build, by_trace, node, shape

# Span names as Zipkin shows them: its model lowercases names.
HTTP_NAME, GRPC_NAME = "get /chain/{id}", "/chain.chain/hop"


def netns_inode(pid):
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def test_pods_isolate_processes_and_keep_their_pids(pods, rig):
    b = rig.http("b", "none", [pods.redis.url])
    d = rig.driver()
    for proc, pod in ((b, pods.b), (d, pods.drv), (pods.redis, pods.r)):
        assert comm_of(proc.pid) == COMMS[pod.label]  # the pid sockspan -p gets is the app's
        assert netns_inode(proc.pid) == os.stat(f"/run/netns/{pod.ns}").st_ino
    assert netns_inode(b.pid) != netns_inode(os.getpid())
    assert len({p.ip for p in (pods.drv, pods.a, pods.b, pods.r)}) == 4
    # The pod's own loopback is up and its own: the service is not on the host's.
    out = subprocess.run([IP, "netns", "exec", pods.b.ns, PYTHON, "-c",
                          "import socket; socket.create_connection(('127.0.0.1', 9), 1)"],
                         capture_output=True, text=True, timeout=30)
    assert "ConnectionRefusedError" in out.stderr


def test_podnet_removes_everything_and_leftovers():
    net = PodNet(["x", "y"])
    x, y = net["x"], net["y"]
    sleeper = x.start([PYTHON, "-c", "import sys; sys.stdin.read()"], "sleeper")
    assert reachable(x.ip) and reachable(y.ip)
    net.close()
    assert {x.ns, y.ns} & set(namespaces()) == set()
    assert net.bridge not in links()
    assert sleeper.wait() != 0  # killed with its pod
    # What a killed session leaves: its pid (9999999 > pid_max) is gone.
    old = "ss9999999x1"
    subprocess.run([IP, "netns", "add", f"{old}-a"], check=True)
    subprocess.run([IP, "link", "add", f"{old}br", "type", "bridge"], check=True)
    assert sorted(cleanup_leftovers()) == [f"{old}-a", f"{old}br"]
    assert f"{old}-a" not in namespaces() and f"{old}br" not in links()


def b3(trace="0af7651916cd43dd8448eb211c80319c", span="b7ad6b7169203331"):
    return {"X-B3-TraceId": trace, "X-B3-SpanId": span, "X-B3-Sampled": "1"}


ALL_KINDS = {"b3": "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1", "X-B3-Flags": "1",
             **b3(), "X-Request-Id": "req-42", "traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"}


@pytest.mark.parametrize("mode,kept", [
    ("none", []),
    ("b3", ["b3", "X-B3-Flags", "X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled"]),
    ("xrid", ["X-Request-Id"]),
])
def test_forwarded_headers_per_mode(pods, rig, mode, kept):
    """Every kind of trace header in one request: each mode forwards exactly its own, verbatim."""
    b = rig.http("b", mode, [pods.redis.url])
    a = rig.http("a", mode, [b.url])
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(f"http://{a.addr}/chain/7", headers=ALL_KINDS, timeout=30)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["received"] == ALL_KINDS
    [call] = reply["calls"]
    assert call["sent"] == {k: ALL_KINDS[k] for k in kept}
    assert call["reply"]["received"] == call["sent"]
    assert call["reply"]["calls"] == [{"to": "redis", "key": "key:7", "value": "value-7"}]


def expect_hops(results, proto, mode, first=0):
    """Every request answered, A got what the driver sent, B what A forwarded, B read Redis."""
    assert [r["n"] for r in results] == list(range(first, first + len(results)))
    for r in results:
        ok = 200 if proto == "http" else 0
        assert r["status"] == ok, r
        n, a = r["n"], r["reply"]
        assert (a["service"], a["n"], a["received"]) == (COMMS["a"], n, r["sent"])
        [call] = a["calls"]
        b_reply = call["reply"]
        assert (b_reply["service"], b_reply["n"]) == (COMMS["b"], n)
        assert b_reply["received"] == call["sent"]
        assert b_reply["calls"] == [{"to": "redis", "key": f"key:{n}", "value": f"value-{n}"}]
        if mode == "none":
            assert (r["sent"], call["sent"]) == ({}, {})
        elif mode in ("b3", "xrid"):
            assert call["sent"] == r["sent"]  # verbatim
        else:  # zipkin: py_zipkin's headers again, same trace, ids of its own
            assert set(call["sent"]) == set(r["sent"])
            assert lower(call["sent"])["x-b3-traceid"] == r["trace_id"]
            assert lower(call["sent"])["x-b3-spanid"] != lower(r["sent"])["x-b3-spanid"]


def lower(h):
    return {k.lower(): v for k, v in h.items()}


def expect_zipkin_spans(results, spans, name):
    """py_zipkin's spans per request: the ids on the wire are the ones its spans report."""
    traces = by_trace(spans)
    assert sorted(traces) == sorted(r["trace_id"] for r in results)
    for r in results:
        got = {(s["localEndpoint"]["serviceName"], s["kind"]): s for s in traces[r["trace_id"]]}
        assert len(got) == len(traces[r["trace_id"]]) == 5
        drv, a_srv, a_cli = got["chain-drv", "CLIENT"], got["chain-a", "SERVER"], got["chain-a", "CLIENT"]
        b_srv, b_cli = got["chain-b", "SERVER"], got["chain-b", "CLIENT"]
        to_a, to_b = lower(r["sent"]), lower(r["reply"]["calls"][0]["sent"])
        assert (to_a["x-b3-parentspanid"], to_a["x-b3-sampled"]) == (drv["id"], "1")
        assert "parentId" not in drv
        assert (a_srv["id"], a_srv["parentId"], a_srv["shared"]) == (to_a["x-b3-spanid"], drv["id"], True)
        assert (a_cli["parentId"], to_b["x-b3-parentspanid"]) == (a_srv["id"], a_cli["id"])
        assert (b_srv["id"], b_srv["parentId"], b_srv["shared"]) == (to_b["x-b3-spanid"], a_cli["id"], True)
        assert (b_cli["parentId"], b_cli["name"]) == (b_srv["id"], "get")
        # py_zipkin reports no span with the id it minted for the wire, so Zipkin hangs each
        # SERVER span under the root for want of its client: the gap sockspan's spans fill.
        root = build(traces[r["trace_id"]])
        assert shape(root) == node("chain-drv", "CLIENT", name,
                                   node("chain-a", "SERVER", name, node("chain-a", "CLIENT", name)),
                                   node("chain-b", "SERVER", name, node("chain-b", "CLIENT", "get")))
        assert sorted(n.span["id"] for n in root.orphans) == sorted([a_srv["id"], b_srv["id"]])


CHAINS = {"http": {"count": 20, "concurrency": 4, "name": HTTP_NAME},
          "grpc": {"count": 10, "concurrency": 2, "name": GRPC_NAME}}


@pytest.mark.parametrize("proto", list(CHAINS))
@pytest.mark.parametrize("mode", ["none", "b3", "xrid", "zipkin"])
def test_chain(pods, rig, proto, mode):
    run = CHAINS[proto]
    start = rig.http if proto == "http" else rig.grpc
    b = start("b", mode, [pods.redis.url])
    a = start("a", mode, [b.url])
    drv = rig.driver(zipkin=mode == "zipkin")
    gets = pods.redis.calls("get")
    results = drv.run(proto, a.addr, count=run["count"], concurrency=run["concurrency"], headers=mode)
    expect_hops(results, proto, mode)
    if proto == "grpc":
        assert all(k == k.lower() for r in results for k in r["sent"])  # gRPC metadata keys
    if mode == "b3":
        assert [{k.lower(): v for k, v in r["sent"].items()}["x-b3-sampled"] for r in results] == ["1"] * len(results)
    assert pods.redis.calls("get") - gets == run["count"]
    if mode == "zipkin":
        expect_zipkin_spans(results, rig.zipkin_spans(), run["name"])
    else:
        assert rig.zipkin_spans() == []


def test_b3_sampled_zero_is_forwarded(pods, rig):
    b = rig.http("b", "b3", [pods.redis.url])
    a = rig.http("a", "b3", [b.url])
    results = rig.driver().run("http", a.addr, count=3, headers="b3", sampled="0")
    expect_hops(results, "http", "b3")
    assert [r["sent"]["X-B3-Sampled"] for r in results] == ["0"] * 3
    assert [r["reply"]["calls"][0]["reply"]["received"]["X-B3-Sampled"] for r in results] == ["0"] * 3


@pytest.mark.parametrize("propagate", ["none", "b3"])
def test_event_loop_barrier_holds_requests_in_flight(pods, rig, propagate):
    """5 requests at once: each downstream call is written while all 5 are in flight on the
    loop's one thread; one at a time: while only its own is."""
    b = rig.http("b", "none", [pods.redis.url])
    a = rig.event_loop("a", propagate, [b.url], barrier=5)
    drv = rig.driver()
    gets = pods.redis.calls("get")
    results = drv.run("http", a.addr, count=5, concurrency=5, headers=propagate)
    expect_hops(results, "http", propagate)
    assert [r["reply"]["barrier"] for r in results] == [
        {"k": 5, "timed_out": False, "in_flight_at_call": [5]}] * 5
    assert pods.redis.calls("get") - gets == 5
    assert len(set(os.listdir(f"/proc/{a.pid}/task"))) == 1  # one thread did it all

    seq = rig.event_loop("a", propagate, [b.url])
    results = drv.run("http", seq.addr, count=5, first=5, headers=propagate)
    expect_hops(results, "http", propagate, first=5)
    assert [r["reply"]["barrier"] for r in results] == [
        {"k": 0, "timed_out": False, "in_flight_at_call": [1]}] * 5
