"""itlib/zipkin_tree.py on hand-made spans: the trees Zipkin's own builder makes (no root, no agent).

Each case names the rule of zipkin2.internal.Trace.merge / SpanNode.Builder it pins down.
"""
import pytest

from itlib.zipkin_tree import build, by_trace, merge, node, shape, window_errors

TRACE = "463ac35c9f6413ad48485a3953bb6124"
T0 = 1_700_000_000_000_000


def ep(service, port=None, ip="10.77.0.11"):
    out = {"serviceName": service, "ipv4": ip}
    if port:
        out["port"] = port
    return out


def span(sid, kind, service, name="get /x", parent=None, shared=None, ts=0, dur=1000,
         trace=TRACE, endpoint=None, **extra):
    s = {"traceId": trace, "id": sid, "kind": kind, "name": name, "timestamp": T0 + ts,
         "duration": dur, "localEndpoint": endpoint or ep(service)}
    if parent:
        s["parentId"] = parent
    if shared is not None:
        s["shared"] = shared
    s.update(extra)
    return s


def n(service, kind, *children):
    """Shape of a span named "get /x" (what span() makes by default)."""
    return node(service, kind, "get /x", *children)


def test_shared_client_server_pair():
    """A shared SERVER is the child of the CLIENT with its id."""
    root = build([span("000000000000000b", "SERVER", "b", shared=True, ts=10, dur=500),
                  span("000000000000000b", "CLIENT", "a", ts=0, dur=1000)])
    assert shape(root) == n("a", "CLIENT", n("b", "SERVER"))
    assert root.orphans == [] and root.lost == []


def test_missing_shared_flag_and_parent_are_backfilled():
    """A SERVER after a CLIENT with the same id becomes shared and takes the client's parentId."""
    spans = [span("00000000000000aa", "SERVER", "a", ts=0, dur=3000),
             span("00000000000000bb", "CLIENT", "a", parent="00000000000000aa", ts=10, dur=900),
             span("00000000000000bb", "SERVER", "b", ts=20, dur=500)]
    merged = {(s["id"], s["kind"]): s for s in merge(spans)}
    assert merged["00000000000000bb", "SERVER"]["shared"] is True
    assert merged["00000000000000bb", "SERVER"]["parentId"] == "00000000000000aa"
    assert shape(build(spans)) == n("a", "SERVER", n("a", "CLIENT", n("b", "SERVER")))


def chain_spans(client_endpoint):
    """driver CLIENT(d) -> A SERVER(d, shared) -> A CLIENT(c, parent d, on client_endpoint)."""
    a = ep("a", 8080)
    return [span("000000000000000d", "CLIENT", "drv", endpoint=ep("drv", ip="10.77.0.10"), dur=5000),
            span("000000000000000d", "SERVER", "a", shared=True, endpoint=a, ts=100, dur=4000),
            span("000000000000000c", "CLIENT", "a", parent="000000000000000d",
                 endpoint=client_endpoint, ts=200, dur=1000)]


def test_child_of_shared_server_on_the_same_endpoint():
    """parentId names a shared span on the same local endpoint: the child hangs under it."""
    root = build(chain_spans(ep("a", 8080)))
    assert shape(root) == n("drv", "CLIENT", n("a", "SERVER", n("a", "CLIENT")))
    assert root.orphans == []


def test_child_of_shared_id_on_another_endpoint_goes_to_the_plain_parent():
    """Endpoints are compared whole (port too): on another endpoint, the parentId resolves to the
    non-shared span with that id, the remote client."""
    root = build(chain_spans(ep("a", 41234)))
    assert shape(root) == n("drv", "CLIENT", n("a", "SERVER"), n("a", "CLIENT"))
    assert root.orphans == []


def test_headless_trace_gets_a_synthetic_root():
    """No span without a parent: a synthetic root holds the spans whose parent is missing."""
    spans = [span("00000000000000a1", "SERVER", "a", shared=True, dur=3000),
             span("00000000000000a2", "CLIENT", "a", parent="00000000000000a1", ts=5, dur=100),
             span("00000000000000b1", "SERVER", "b", parent="00000000000000ff", ts=1000, dur=10)]
    root = build(spans)
    assert root.span is None
    assert shape(root) == (None, (n("a", "SERVER", n("a", "CLIENT")), n("b", "SERVER")))
    assert [o.span["id"] for o in root.orphans] == ["00000000000000a1", "00000000000000b1"]


def test_spans_missing_their_parent_hang_under_the_root_as_orphans():
    spans = [span("00000000000000a1", "SERVER", "a", dur=3000),
             span("00000000000000a2", "CLIENT", "a", parent="00000000000000a1", ts=5, dur=10),
             span("00000000000000c1", "CLIENT", "c", parent="00000000000000ee", ts=7, dur=10),
             span("00000000000000c2", "CLIENT", "c", ts=9, dur=10)]  # a second parentless span
    root = build(spans)
    assert shape(root) == n("a", "SERVER", n("a", "CLIENT"), n("c", "CLIENT"), n("c", "CLIENT"))
    assert [o.span["id"] for o in root.orphans] == ["00000000000000c1", "00000000000000c2"]


def test_root_is_the_first_parentless_span_in_id_order():
    spans = [span("00000000000000f0", "SERVER", "late", ts=0), span("00000000000000a0", "SERVER", "x", ts=50)]
    root = build(spans)
    assert shape(root) == n("x", "SERVER", n("late", "SERVER"))


def test_a_span_sent_in_pieces_is_merged():
    first = {"traceId": TRACE, "id": "0000000000000001", "kind": "SERVER", "name": "get /x",
             "timestamp": T0, "localEndpoint": {"serviceName": "a"}}
    second = {"traceId": TRACE, "id": "0000000000000001", "duration": 700,
              "localEndpoint": {"serviceName": "a", "ipv4": "10.77.0.11", "port": 8080},
              "tags": {"http.path": "/x"}}
    [merged] = merge([first, second])
    assert (merged["timestamp"], merged["duration"], merged["tags"]) == (T0, 700, {"http.path": "/x"})
    assert merged["localEndpoint"] == {"serviceName": "a", "ipv4": "10.77.0.11", "ipv6": None, "port": 8080}
    root = build([first, second, dict(first)])  # an exact duplicate too
    assert shape(root) == n("a", "SERVER") and root.lost == []


def test_same_id_on_incompatible_endpoints_is_not_merged_and_one_is_lost():
    """Two non-shared spans with one id on different services: Zipkin keeps the last indexed."""
    spans = [span("0000000000000001", "SERVER", "root", dur=5000),
             span("0000000000000002", "CLIENT", "a", parent="0000000000000001", ts=1, dur=10),
             span("0000000000000002", "CLIENT", "b", parent="0000000000000001", ts=2, dur=10)]
    assert len(merge(spans)) == 3
    root = build(spans)
    assert shape(root) == n("root", "SERVER", n("b", "CLIENT"))
    assert [s["localEndpoint"]["serviceName"] for s in root.lost] == ["a"]


def test_64_and_128_bit_trace_ids():
    """The longest trace id wins; a 128-bit id with a zero high half is the 64-bit one."""
    low = TRACE[16:]
    spans = [span("0000000000000001", "CLIENT", "a", trace=low, dur=5000),
             span("0000000000000001", "SERVER", "b", shared=True, trace=TRACE, ts=1, dur=10)]
    assert {s["traceId"] for s in merge(spans)} == {TRACE}
    assert shape(build(spans)) == n("a", "CLIENT", n("b", "SERVER"))
    assert list(by_trace([span("01", "SERVER", "a", trace="0" * 16 + low),
                          span("02", "SERVER", "a", trace=low)])) == [low]


def test_self_parent_and_shared_client_are_cleaned():
    [s] = merge([span("0000000000000001", "CLIENT", "a", parent="0000000000000001", shared=True)])
    assert (s["parentId"], s["shared"]) == (None, False)


def test_children_are_ordered_by_timestamp():
    spans = [span("0000000000000001", "SERVER", "a", dur=5000),
             span("0000000000000003", "CLIENT", "late", parent="0000000000000001", ts=300, dur=10),
             span("0000000000000002", "CLIENT", "early", parent="0000000000000001", ts=100, dur=10)]
    assert shape(build(spans)) == n("a", "SERVER", n("early", "CLIENT"), n("late", "CLIENT"))


@pytest.mark.parametrize("ts,dur,bad", [(0, 1000, False), (-1000, 2000, False), (-1001, 1000, True),
                                        (500, 1500, False), (500, 1501, True)])
def test_window_check_with_slack(ts, dur, bad):
    """Parent [T0, T0+1000]; slack 1000 us on each side."""
    spans = [span("0000000000000001", "SERVER", "a", dur=1000),
             span("0000000000000002", "CLIENT", "a", parent="0000000000000001", ts=ts, dur=dur)]
    assert bool(window_errors(build(spans), slack_us=1000)) == bad
    assert window_errors(build(spans), slack_us=10_000) == []


def test_empty_input_is_refused():
    with pytest.raises(ValueError):
        build([])
