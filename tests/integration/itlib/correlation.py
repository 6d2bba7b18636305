"""Reading sockspan's spans of request chains as Zipkin trees: one Trace per traceId.

    traces = analyse(spans)                 # spans: every span the agents wrote
    assert render(tally(traces)) == render({FULL_HTTP: 50})   # tree shapes, how many of each
    assert problems(traces) == []           # what a shape cannot show (below)
    assert requests_of(traces, FULL_HTTP) == list(range(50))   # which request each tree is

A shape is zipkin_tree.node(service, kind, name, *children) = ((service, kind, name), (children...)),
children in timestamp order, names as Zipkin shows them (lowercased). A trace whose spans
all hang off one span has that span's shape, even when that span's own parent is missing
(a trace whose first hop was not traced, e.g. the driver in per-service runs); a trace with
several top-level spans has the synthetic root's shape (None, (...)).

problems() lists, per trace:
  - a span hung under the root only because its parent is missing (other than the top span),
    a span Zipkin drops or cannot reach;
  - a SERVER under a CLIENT that is neither that RPC's shared end (`shared`, after Zipkin's
    merge, and the client's id) nor its child (another id, parentId = the client's id);
  - a CLIENT under a SERVER without parentId = the server's id and the server's localEndpoint;
  - a child starting or ending outside its parent (window_errors, SLACK_US);
  - HTTP spans of more than one request (http.path /chain/<n> with different n).
"""
import re
from collections import Counter

from .zipkin_tree import build, by_trace, shape, walk, window_errors

SLACK_US = 1000
PATH = re.compile(r"/chain/(\d+)")


class Trace:
    def __init__(self, trace_id, spans):
        self.trace_id, self.spans = trace_id, spans
        self.root = build(spans)
        self.tops = [self.root] if self.root.span else self.root.children
        self.shape = shape(self.tops[0]) if len(self.tops) == 1 else shape(self.root)
        self.ns = sorted({int(m.group(1)) for s in spans
                          for m in [PATH.fullmatch(s.get("tags", {}).get("http.path", ""))] if m})
        self.problems = self._problems()

    def _problems(self):
        out = []
        allowed = self.tops if self.root.span is None and len(self.tops) == 1 else []
        out += [f"parent missing: {n!r} (parentId {n.span['parentId']})"
                for n in self.root.orphans if n not in allowed]
        out += [f"span Zipkin cannot place: {s['kind']} {s['name']} id {s['id']}" for s in self.root.lost]
        for n in walk(self.root):
            p = n.parent
            if n.span is None or p is None or p.span is None or n in self.root.orphans:
                continue
            s, ps = n.span, p.span
            shared_end = s["shared"] and s["id"] == ps["id"]
            child = not s["shared"] and s["id"] != ps["id"] and s["parentId"] == ps["id"]
            if s["kind"] == "SERVER" and ps["kind"] == "CLIENT" and not (shared_end or child):
                out.append(f"{n!r} under {p!r} is neither the shared end of its RPC nor its child "
                           f"(shared={s['shared']}, parentId {s['parentId']})")
            if s["kind"] == "CLIENT" and ps["kind"] == "SERVER" and (
                    s["parentId"] != ps["id"] or s["localEndpoint"] != ps["localEndpoint"]):
                out.append(f"{n!r} under {p!r}: parentId {s['parentId']}, localEndpoint "
                           f"{s['localEndpoint']} (want {ps['id']}, {ps['localEndpoint']})")
        out += window_errors(self.root, SLACK_US)
        if len(self.ns) > 1:
            out.append(f"spans of several requests in one trace: n = {self.ns}")
        return out

    def __repr__(self):
        return f"Trace({self.trace_id}, n={self.ns}, {len(self.spans)} spans)"


def analyse(spans):
    return [Trace(tid, group) for tid, group in by_trace(spans).items()]


def tally(traces):
    """{shape: number of traces with it}; compare with a dict for pytest's readable diff."""
    return dict(Counter(t.shape for t in traces))


def render(counts):
    """{shape: count} as indented text, one span per line, so pytest diffs it line by line."""
    def lines(shape_, depth):
        label, children = shape_
        head = ["  " * depth + ("(no root span)" if label is None else " ".join(label))]
        return head + [line for c in children for line in lines(c, depth + 1)]
    blocks = sorted("\n".join([f"{count} trace(s):", *lines(s, 1)]) for s, count in counts.items())
    return "\n".join(blocks) + "\n"


def problems(traces):
    return [(t.trace_id, p) for t in traces for p in t.problems]


def requests_of(traces, tree):
    """The request numbers n of the traces shaped `tree`, sorted (one per trace)."""
    return sorted(n for t in traces if t.shape == tree for n in (t.ns or [None]))


def trace_ids_by_request(traces, tree):
    """{n: traceId} of the traces shaped `tree`."""
    return {n: t.trace_id for t in traces if t.shape == tree for n in t.ns}


def joined(spans, library):
    """Zipkin's tree of one trace's spans from sockspan and from a tracing library together:
    (root's service or None when synthetic, [(service, kind, id) of the orphans], lost spans)."""
    root = build(spans + library)
    service = root.span["localEndpoint"]["serviceName"] if root.span and root.span["localEndpoint"] else None
    orphans = [(o.span["localEndpoint"]["serviceName"], o.span["kind"], o.span["id"]) for o in root.orphans]
    return service, orphans, root.lost


def spans_of_kind(spans, service, kind):
    return [s for s in spans if s.get("localEndpoint", {}).get("serviceName") == service
            and s.get("kind") == kind]
