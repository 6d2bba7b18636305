"""itlib/correlation.py on hand-made spans (no root, no agent): spans that follow the
correlation rules pass test_correlation.py's checks, and each way of breaking a rule fails them.

The hand-made spans are what the rules say sockspan writes for request n of the chain
driver -> A -> B -> Redis: one id per RPC shared by its two ends (the SERVER with
"shared": true), each CLIENT made while serving a request with parentId = that SERVER's
id and that SERVER's localEndpoint; a SERVER may also be its CLIENT's child.
"""
import random

from itlib.correlation import analyse, joined, problems, render, requests_of, tally
from itlib.zipkin_tree import node

T0 = 1_700_000_000_000_000
NAME = "get /chain/{id}"
ADDR = {"drv": ("chain-drv", "10.77.0.10"), "a": ("chain-a", "10.77.0.11"),
        "b": ("chain-b", "10.77.0.12"), "r": ("redis-server", "10.77.0.13")}
PORT = {"a": 8080, "b": 8081, "r": 6379}


def hexid(bits=64):
    return f"{random.getrandbits(bits) | 1:0{bits // 4}x}"


def ep(label, port=None):
    service, addr = ADDR[label]
    return {"serviceName": service, "ipv4": addr, "port": port or PORT[label]}


def span(trace, sid, kind, local, ts, dur, n=None, parent=None, shared=False, name=NAME):
    s = {"traceId": trace, "id": sid, "kind": kind, "name": name, "timestamp": T0 + ts,
         "duration": dur, "localEndpoint": local, "tags": {"process.pid": "1"}}
    if n is not None:
        s["tags"]["http.path"] = f"/chain/{n}"
    if parent:
        s["parentId"] = parent
    if shared:
        s["shared"] = True
    return s


def request_spans(n, agents="one", trace=None, ids=None, driver_parent=None):
    """sockspan's spans of request n as the rules want them. ids: (driver's, A's call, B's call)."""
    trace = trace or hexid(128)
    d, c, r = ids or (hexid(), hexid(), hexid())
    t = 10_000 * n
    out = [span(trace, d, "SERVER", ep("a"), t + 10, 880, n, parent=driver_parent, shared=True),
           span(trace, c, "CLIENT", ep("a"), t + 100, 700, n, parent=d),
           span(trace, c, "SERVER", ep("b"), t + 110, 680, n, shared=True),
           span(trace, r, "CLIENT", ep("b"), t + 200, 100, parent=c, name="get")]
    if agents == "one":
        out += [span(trace, d, "CLIENT", ep("drv", 40000 + n), t, 900, n, parent=driver_parent),
                span(trace, r, "SERVER", ep("r"), t + 210, 80, shared=True, name="get")]
    return out


FULL = node("chain-drv", "CLIENT", NAME, node("chain-a", "SERVER", NAME, node("chain-a", "CLIENT", NAME, node(
    "chain-b", "SERVER", NAME, node("chain-b", "CLIENT", "get", node("redis-server", "SERVER", "get"))))))
A_TREE = node("chain-a", "SERVER", NAME, node("chain-a", "CLIENT", NAME, node(
    "chain-b", "SERVER", NAME, node("chain-b", "CLIENT", "get"))))


def check(spans, want):
    """What test_correlation.py's check_trees asserts, as a value: (render, problems, ns per shape)."""
    traces = analyse(spans)
    return (render(tally(traces)), problems(traces), {s: requests_of(traces, s) for s in want}) == (
        render(want), [], {s: list(range(count)) for s, count in want.items()})


def test_fifty_requests_make_fifty_full_trees():
    spans = [s for n in range(50) for s in request_spans(n)]
    random.shuffle(spans)
    assert check(spans, {FULL: 50})


def test_per_service_agents_make_headless_trees_of_a_and_b():
    """The driver is not traced: A's SERVER has no client, the one span allowed to lack its parent."""
    assert check([s for n in range(5) for s in request_spans(n, "per-service")], {A_TREE: 5})


def test_render_draws_one_span_per_line():
    assert render({A_TREE: 2}) == ("2 trace(s):\n"
                                   "  chain-a SERVER get /chain/{id}\n"
                                   "    chain-a CLIENT get /chain/{id}\n"
                                   "      chain-b SERVER get /chain/{id}\n"
                                   "        chain-b CLIENT get\n")


def test_client_on_its_own_socket_endpoint_falls_out_of_its_server():
    spans = request_spans(0)
    spans[1]["localEndpoint"] = ep("a", 41000)  # A's CLIENT on its ephemeral port
    assert not check(spans, {FULL: 1})


def test_server_that_is_a_child_of_the_client_keeps_the_rules():
    """B3's other model (the server provisions its own id, the wire's is its parent): what
    sockspan writes when a library minted the call's span id."""
    spans = request_spans(0)
    spans[2]["id"], spans[2]["parentId"] = hexid(), spans[1]["id"]  # B SERVER: own id, child of A's CLIENT
    del spans[2]["shared"]
    spans[3]["parentId"] = spans[2]["id"]
    traces = analyse(spans)
    assert render(tally(traces)) == render({FULL: 1})
    assert problems(traces) == []


def test_server_sharing_an_id_it_does_not_say_is_paired_by_zipkin():
    """Both ends derived the same id, the SERVER without "shared": Zipkin's merge pairs them."""
    spans = request_spans(0)
    del spans[2]["shared"]
    traces = analyse(spans)
    assert render(tally(traces)) == render({FULL: 1})
    assert problems(traces) == []


def test_call_attached_to_another_request_is_caught():
    first, second = request_spans(0), request_spans(1)
    # Request 1's call (and all below it) parented to request 0's SERVER, in request 0's trace.
    for s in second[1:4] + second[5:]:
        s["traceId"] = first[0]["traceId"]
    second[1]["parentId"] = first[0]["id"]
    assert not check(first + second, {FULL: 2})
    assert any("several requests" in p for _, p in problems(analyse(first + second)))


def test_unattributed_calls_are_roots_of_their_own_traces():
    """Case 5's expectation: the served part and the called part are separate traces."""
    spans = []
    for n in range(5):
        d_part = request_spans(n)
        call_trace = hexid(128)
        del d_part[1]["parentId"]
        for s in d_part[1:4] + d_part[5:]:
            s["traceId"] = call_trace
        spans += d_part
    served = node("chain-drv", "CLIENT", NAME, node("chain-a", "SERVER", NAME))
    called = node("chain-a", "CLIENT", NAME, node("chain-b", "SERVER", NAME, node(
        "chain-b", "CLIENT", "get", node("redis-server", "SERVER", "get"))))
    assert check(spans, {served: 5, called: 5})


def test_child_outside_its_parent_window_is_a_problem():
    spans = request_spans(0)
    spans[3]["timestamp"] += 10_000  # B's Redis call ends 10 ms after B answered
    assert not check(spans, {FULL: 1})


def py_zipkin_spans(trace):
    """py_zipkin 0.15's spans of one request (as test_chain_apps.py checks them): its driver span
    D puts span id W on the wire (parent D); A's SERVER is W, A's CLIENT P puts S (parent P)."""
    d, w, p, s, q = (hexid() for _ in range(5))
    lib = [span(trace, d, "CLIENT", {"serviceName": "chain-drv", "ipv4": "10.77.0.10"}, 0, 950),
           span(trace, w, "SERVER", ep("a"), 10, 880, parent=d, shared=True),
           span(trace, p, "CLIENT", ep("a"), 90, 720, parent=w),
           span(trace, s, "SERVER", ep("b"), 110, 680, parent=p, shared=True),
           span(trace, q, "CLIENT", ep("b"), 190, 120, parent=s, name="get")]
    return lib, (d, w, s)


def test_library_spans_and_sockspan_spans_join():
    """Case 1: sockspan's spans take the wire's ids; with py_zipkin's they make one tree."""
    trace = hexid(128)
    lib, (d, w, s) = py_zipkin_spans(trace)
    one = request_spans(0, "one", trace, ids=(w, s, hexid()), driver_parent=d)
    assert check(one, {FULL: 1})  # sockspan alone: the driver's CLIENT lacks only py_zipkin's D
    assert joined(one, lib) == ("chain-drv", [], [])
    per_service = request_spans(0, "per-service", trace, ids=(w, s, hexid()), driver_parent=d)
    assert check(per_service, {A_TREE: 1})
    assert joined(per_service, lib) == ("chain-drv", [("chain-a", "SERVER", w)], [])
