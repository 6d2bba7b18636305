"""Correlation: the spans of one request through several services form one Zipkin trace tree.

The chain: driver (pod drv, comm chain-drv) -> service A (pod a, chain-a) -> service B
(pod b, chain-b) -> redis-server (pod r): A calls B's /chain/<n> (HTTP/1.1, chain_http.py)
or /chain.Chain/Hop (gRPC, chain_grpc.py); B then does Redis GET key:<n>. Each pod is a
network namespace, so every hop crosses a real (bridged) network between addresses.

The agents, either
    per-service   one sockspan per service: `-p A` and `-p B`, separate output files
    one           one sockspan: -p for the driver, A, B and redis-server
and the headers (cases of the issue): zipkin (1: py_zipkin-instrumented services), b3 (2:
x-b3-* copied verbatim), xrid (3: only x-request-id forwarded), none (4: no headers,
thread-per-request servers). Expected, per request, exactly (Zipkin's trees, itlib/correlation):
    per-service, cases 1-3   A SERVER > A CLIENT > B SERVER > B CLIENT(get)
    per-service, case 4      A SERVER > A CLIENT   and   B SERVER > B CLIENT(get): two traces
    one, cases 1-4           drv CLIENT > A SERVER > A CLIENT > B SERVER > B CLIENT(get) > redis SERVER(get)
Each runs 50 requests, 10 at a time (threads with a connection each, or one gRPC channel).
grpcio reads requests on its I/O threads and runs handlers on a pool: nothing ties the
header-less Redis call of B's handler thread to B's request (sockspan never guesses), so
for gRPC that call is a trace of its own, counted as unattributed, and the rest of the
tree stands on headers alone (A's call carries them). Case 4 has no gRPC variant: without
headers nothing ties A's call to A's request either.
    gRPC per-service, 1-3    A SERVER > A CLIENT > B SERVER   and   B CLIENT(get)
    gRPC one, 1-3            drv CLIENT > A SERVER > A CLIENT > B SERVER   and   B CLIENT(get) > redis SERVER(get)

Case 5 (chain_async.py as A: one thread, an event loop) and sampling come last.
"""
import re
from contextlib import ExitStack

import pytest

from itlib.chain import COMMS
from itlib.collector import scrape
from itlib.correlation import (analyse, joined, problems, render, requests_of, spans_of_kind, tally,
                               trace_ids_by_request)
from itlib.procs import STEP_TIMEOUT, free_port, wait_until
from itlib.zipkin_tree import by_trace, node

DRV, A, B, REDIS = (COMMS[k] for k in ("drv", "a", "b", "r"))
# Names as sockspan writes them, and as Zipkin shows them (its model lowercases names).
RAW_NAME = {"http": "get /chain/{id}", "grpc": "/chain.Chain/Hop"}
NAME = {proto: raw.lower() for proto, raw in RAW_NAME.items()}
RUN = {"http": {"count": 50, "concurrency": 10}, "grpc": {"count": 50, "concurrency": 10}}
LO = "127.0.0.1"


def a_tree(name):
    """What agents on A and B alone see of one request, when the hops are tied together."""
    return node(A, "SERVER", name, node(A, "CLIENT", name, node(B, "SERVER", name, node(B, "CLIENT", "get"))))


def full_tree(name):
    """What one agent on every process sees of one request."""
    return node(DRV, "CLIENT", name, node(A, "SERVER", name, node(A, "CLIENT", name, node(
        B, "SERVER", name, node(B, "CLIENT", "get", node(REDIS, "SERVER", "get"))))))


def expected_trees(proto, mode, agents):
    name = NAME[proto]
    if proto == "grpc":  # B's handler-thread Redis call: a trace of its own (see the top)
        if agents == "one":
            return [node(DRV, "CLIENT", name, node(A, "SERVER", name, node(A, "CLIENT", name, node(
                B, "SERVER", name)))), node(B, "CLIENT", "get", node(REDIS, "SERVER", "get"))]
        return [node(A, "SERVER", name, node(A, "CLIENT", name, node(B, "SERVER", name))),
                node(B, "CLIENT", "get")]
    if agents == "one":
        return [full_tree(name)]
    if mode == "none":  # nothing ties A's call to B's request: two traces (documented limit)
        return [node(A, "SERVER", name, node(A, "CLIENT", name)),
                node(B, "SERVER", name, node(B, "CLIENT", "get"))]
    return [a_tree(name)]


def start_agents(stack, sockspan, agents, drv, a, b, redis_pid):
    """per-service: one agent on A, one on B (nothing shared); one: one agent on every process."""
    runs = ([sockspan("-p", a.pid), sockspan("-p", b.pid)] if agents == "per-service"
            else [sockspan("-p", drv.pid, "-p", a.pid, "-p", b.pid, "-p", redis_pid)])
    for r in runs:
        stack.enter_context(r)
    return runs


def check_trees(spans, results, proto, trees):
    """Exactly one tree per request for each expected shape, each keeping the rules."""
    traces = analyse(spans)
    assert render(tally(traces)) == render({t: len(results) for t in trees})
    assert problems(traces) == []
    assert {s["name"] for s in spans} == {RAW_NAME[proto], "get"}
    if proto == "http":  # the http.path tags say which request each tree is
        for t in trees:
            assert requests_of(traces, t) == [r["n"] for r in results]
    return traces


def check_trace_ids(traces, results, proto, tree):
    """The trace id on the wire (the driver's B3 or py_zipkin's) is the trace's id."""
    if proto == "http":
        assert trace_ids_by_request(traces, tree) == {r["n"]: r["trace_id"] for r in results}
    else:
        assert sorted(t.trace_id for t in traces if t.shape == tree) == sorted(r["trace_id"] for r in results)


def check_with_library_spans(spans, library, results, agents):
    """Case 1: py_zipkin's spans and sockspan's together make one tree per request that
    reaches every span. py_zipkin never reports the span id it puts on the wire for a call,
    so without the driver traced, A's SERVER (whose id is that one) has no client: it is
    the one span allowed to hang under the root."""
    mine, theirs = by_trace(spans), by_trace(library)
    for r in results:
        sent_span = {k.lower(): v for k, v in r["sent"].items()}["x-b3-spanid"]
        allowed = [] if agents == "one" else [(A, "SERVER", sent_span)]
        got = joined(mine[r["trace_id"]], theirs[r["trace_id"]])
        assert (r["n"], got) == (r["n"], (DRV, allowed, []))


CHAIN_CASES = [(proto, mode, agents) for proto, modes in (("http", ("zipkin", "b3", "xrid", "none")),
                                                          ("grpc", ("zipkin", "b3", "xrid")))
               for mode in modes for agents in ("per-service", "one")]


@pytest.mark.parametrize("proto,mode,agents", CHAIN_CASES)
def test_chain(pods, rig, sockspan, proto, mode, agents):
    start = rig.http if proto == "http" else rig.grpc
    b = start("b", mode, [pods.redis.url])
    a = start("a", mode, [b.url])
    drv = rig.driver(zipkin=mode == "zipkin")
    with ExitStack() as stack:
        runs = start_agents(stack, sockspan, agents, drv, a, b, pods.redis.pid)
        results = drv.run(proto, a.addr, headers=mode, **RUN[proto])
    assert {r["status"] for r in results} == {200 if proto == "http" else 0}
    spans = [s for r in runs for s in r.spans]
    # Counted where B's calls were seen: the last agent (B's, or the only one).
    assert exit_count(runs[-1], "unattributed") == (len(results) if proto == "grpc" else 0)
    trees = expected_trees(proto, mode, agents)
    traces = check_trees(spans, results, proto, trees)
    if mode in ("zipkin", "b3"):
        check_trace_ids(traces, results, proto, trees[0])
    if mode == "zipkin":
        check_with_library_spans(spans, rig.zipkin_spans(), results, agents)


# ---- case 5: one thread serving several requests (chain_async.py as A), one agent ----

def scrape_after(mport, expected_spans):
    """/metrics once sockspan_spans_total (all labels) reaches expected_spans, bounded."""
    def enough():
        m = scrape(mport, LO)
        total = sum(v for (name, _), v in m.samples.items() if name == "sockspan_spans_total")
        return m if total >= expected_spans else None
    return wait_until(enough, STEP_TIMEOUT, f"sockspan_spans_total to reach {expected_spans}")


def run_event_loop(pods, rig, sockspan, propagate, count, concurrency, barrier, spans_expected):
    """A = chain_async.py, one agent on everything. Returns (spans, results, agent, metrics):
    /metrics as read once the agent had counted spans_expected spans."""
    b = rig.http("b", "none", [pods.redis.url])
    a = rig.event_loop("a", propagate, [b.url], barrier=barrier)
    drv = rig.driver()
    mport = free_port()
    with sockspan("-p", drv.pid, "-p", a.pid, "-p", b.pid, "-p", pods.redis.pid,
                  "--metrics", f"{LO}:{mport}") as agent:
        results = drv.run("http", a.addr, count=count, concurrency=concurrency, headers=propagate)
        metrics = scrape_after(mport, spans_expected)
    held = {"k": barrier, "timed_out": False, "in_flight_at_call": [concurrency]}
    assert [r["reply"]["barrier"] for r in results] == [held] * count  # the premise held
    return agent.spans, results, agent, metrics


def exit_count(agent, what):
    """A count from sockspan's exit report ("... N unattributed ...")."""
    found = re.search(rf"(\d+) {what}", agent.stderr())
    assert found, f"no 'N {what}' in sockspan's exit report:\n{agent.stderr()}"
    return int(found.group(1))


def unattributed(agent, metrics):
    """(/metrics, exit report) counts of CLIENT spans that got a trace of their own."""
    return metrics["sockspan_unattributed_spans_total"], exit_count(agent, "unattributed")


def test_event_loop_one_request_at_a_time(pods, rig, sockspan):
    """One request in flight on the thread: its call belongs to it, unambiguously."""
    spans, results, agent, metrics = run_event_loop(pods, rig, sockspan, "none", 10, 1, 0, 60)
    check_trees(spans, results, "http", [full_tree(NAME["http"])])
    assert unattributed(agent, metrics) == (0, 0)


def test_event_loop_ambiguous_calls_start_their_own_traces(pods, rig, sockspan):
    """5 requests in flight on the one thread when each call is written, no headers: no call
    can be tied to its request, so each is the root of a trace of its own (never a wrong
    parent), and each is counted."""
    name = NAME["http"]
    spans, results, agent, metrics = run_event_loop(pods, rig, sockspan, "none", 5, 5, 5, 30)
    served = node(DRV, "CLIENT", name, node(A, "SERVER", name))
    called = node(A, "CLIENT", name, node(B, "SERVER", name, node(B, "CLIENT", "get",
                                                                  node(REDIS, "SERVER", "get"))))
    check_trees(spans, results, "http", [served, called])
    assert [s.get("parentId") for s in spans_of_kind(spans, A, "CLIENT")] == [None] * 5
    assert unattributed(agent, metrics) == (5, 5)


def test_event_loop_calls_tied_by_b3_headers(pods, rig, sockspan):
    """The same 5 in flight, with B3 copied onto each call: the headers tie every call."""
    spans, results, agent, metrics = run_event_loop(pods, rig, sockspan, "b3", 5, 5, 5, 30)
    tree = full_tree(NAME["http"])
    traces = check_trees(spans, results, "http", [tree])
    check_trace_ids(traces, results, "http", tree)
    assert unattributed(agent, metrics) == (0, 0)


# ---- sampling: B3 says not sampled ----

@pytest.mark.parametrize("ignore", [False, True])
def test_b3_not_sampled(pods, rig, sockspan, ignore):
    """x-b3-sampled: 0 all along the chain (requests 0-9): A and B make no span at all for
    them; --ignore-sampling makes them anyway. Requests 10-14 say sampled (1): their trees
    prove the agent was tracing all along. One agent on A and B: A > A > B > B(get)."""
    b = rig.http("b", "b3", [pods.redis.url])
    a = rig.http("a", "b3", [b.url])
    drv = rig.driver()
    with sockspan("-p", a.pid, "-p", b.pid, *(["--ignore-sampling"] if ignore else [])) as agent:
        unsampled = drv.run("http", a.addr, count=10, concurrency=2, headers="b3", sampled="0")
        sampled = drv.run("http", a.addr, count=5, first=10, concurrency=2, headers="b3")
    assert {r["status"] for r in unsampled + sampled} == {200}
    traced = unsampled + sampled if ignore else sampled
    tree = a_tree(NAME["http"])
    traces = check_trees(agent.spans, traced, "http", [tree])
    check_trace_ids(traces, traced, "http", tree)
