"""Trace trees built the way Zipkin builds them, so a test sees what the Zipkin UI would show.

    root = build(spans)          # spans: Zipkin v2 JSON dicts of ONE trace (sockspan's, py_zipkin's...)
    shape(root)                  # ((serviceName, kind, name), (children...)), children by timestamp
    node("a", "SERVER", "get /x", node("a", "CLIENT", "get /x"))   # a shape, written by hand
    root.orphans                 # nodes hung under the root only because their parent is missing
    root.lost                    # spans Zipkin drops (same id, not mergeable) or cannot reach
    window_errors(root)          # children starting or ending outside their parent

A Python reading of zipkin2.internal.Trace.merge and SpanNode.Builder (openzipkin/zipkin),
plus the normalisation Zipkin's JSON decoder and Span.Builder.build apply. The steps:

1. merge: sort by (id, shared last / clients first, local endpoint nulls first); fold each
   run of spans with the same id, the same `shared` and compatible local endpoints (spans
   sent in pieces) into one; give every span the longest trace id; after a CLIENT, a SERVER
   with the same id is marked shared if it was not, and inherits the client's parentId if it
   had none.
2. index: a shared span is keyed by (id, its endpoint) and its parent is "the non-shared
   span with its id" (the client); any other span is keyed by id with its parentId.
3. place: a non-shared span whose parentId names a shared span on the SAME local endpoint
   (endpoints compared whole, port included) is that span's child; otherwise its parent is
   whatever is keyed by the parentId. The first span (in merged order) with no parent is the
   root; with none, a synthetic root (span None). Spans whose parent is not found hang under
   the root; children are then sorted by timestamp.
"""
from functools import cmp_to_key

__all__ = ["Node", "build", "merge", "node", "shape", "window_errors", "walk", "by_trace"]


class Node:
    """One place in the tree. span is a normalised (possibly merged) copy, None for a synthetic root."""

    def __init__(self, span):
        self.span = span
        self.parent = None
        self.children = []
        self.orphans = []   # set on the root only
        self.lost = []      # set on the root only

    def add(self, child):
        if child is self:
            raise ValueError(f"circular dependency on {self.span}")
        self.children.append(child)
        child.parent = self

    def __repr__(self):
        s = self.span
        return "Node(synthetic root)" if s is None else f"Node({label(s)} id={s['id']})"


# ---- normalisation: what Zipkin's decoder and Span.Builder.build do to a span ----

def _endpoint(ep):
    """Zipkin's Endpoint: lowercase service name, port 0 = no port, an empty endpoint is none."""
    if not isinstance(ep, dict):
        return None
    out = {"serviceName": (ep.get("serviceName") or "").lower() or None,
           "ipv4": ep.get("ipv4"), "ipv6": ep.get("ipv6"), "port": ep.get("port") or None}
    return out if any(v is not None for v in out.values()) else None


def _ep_key(ep):
    return None if ep is None else (ep["serviceName"], ep["ipv4"], ep["ipv6"], ep["port"])


def _trace_id(tid):
    tid = tid.lower()
    if len(tid) == 32 and tid.startswith("0" * 16):
        return tid[16:]
    return tid.rjust(16 if len(tid) <= 16 else 32, "0")


def _finish(span):
    """Span.Builder.build: no self-parent, no shared flag on a CLIENT."""
    if span.get("parentId") == span["id"]:
        span["parentId"] = None
    if span.get("kind") == "CLIENT":
        span["shared"] = False
    return span


def normalise(span):
    parent = span.get("parentId")
    if parent is not None:
        parent = parent.lower().rjust(16, "0")
        parent = None if set(parent) == {"0"} else parent
    return _finish({
        "traceId": _trace_id(span["traceId"]),
        "id": span["id"].lower().rjust(16, "0"),
        "parentId": parent,
        "kind": span.get("kind"),
        "name": (span.get("name") or "").lower() or None,
        "timestamp": span.get("timestamp") or 0,
        "duration": span.get("duration") or 0,
        "localEndpoint": _endpoint(span.get("localEndpoint")),
        "remoteEndpoint": _endpoint(span.get("remoteEndpoint")),
        "annotations": sorted({(a["timestamp"], a["value"]) for a in span.get("annotations", [])}),
        "tags": dict(span.get("tags", {})),
        "shared": span.get("shared") is True,
        "debug": span.get("debug") is True,
    })


# ---- Trace.merge ----

def _cmp(a, b):
    return (a > b) - (a < b)


def _cmp_nulls_last(a, b):
    if a is None:
        return 0 if b is None else 1
    return -1 if b is None else _cmp(a, b)


def _cmp_shared(left, right):
    """Shared spans last; among the others, clients first."""
    if left["shared"] or right["shared"]:
        return int(left["shared"]) - int(right["shared"])
    lc, rc = left["kind"] == "CLIENT", right["kind"] == "CLIENT"
    return int(rc) - int(lc)


def _cmp_endpoint(left, right):
    if left is None or right is None:
        return (left is not None) - (right is not None)  # nulls first
    for field in ("serviceName", "ipv4", "ipv6"):
        c = _cmp_nulls_last(left[field], right[field])
        if c:
            return c
    return 0


def _cleanup_order(left, right):
    if left == right:
        return 0
    return (_cmp(left["id"], right["id"]) or _cmp_shared(left, right)
            or _cmp_endpoint(left["localEndpoint"], right["localEndpoint"]))


class _EndpointTracker:
    """Accepts endpoints that do not contradict what it has seen (pieces of one endpoint)."""

    def __init__(self):
        self.seen = {"serviceName": None, "ipv4": None, "ipv6": None, "port": None}

    def try_merge(self, ep):
        if ep is None:
            return True
        if any(self.seen[k] is not None and ep[k] is not None and self.seen[k] != ep[k]
               for k in self.seen):
            return False
        for k, v in ep.items():
            if self.seen[k] is None:
                self.seen[k] = v
        return True


def _merge_endpoint(mine, other):
    if mine is None:
        return other
    if other is None:
        return mine
    return {k: mine[k] if mine[k] is not None else other[k] for k in mine}


def _merge_fields(span, other):
    """Span.Builder.merge: fill what span lacks from other; tags of other win; flags OR-ed."""
    out = dict(span)
    for k in ("traceId", "id", "parentId", "kind", "name"):
        if out[k] is None:
            out[k] = other[k]
    for k in ("timestamp", "duration"):
        if not out[k]:
            out[k] = other[k]
    out["localEndpoint"] = _merge_endpoint(span["localEndpoint"], other["localEndpoint"])
    out["remoteEndpoint"] = _merge_endpoint(span["remoteEndpoint"], other["remoteEndpoint"])
    out["annotations"] = sorted(set(span["annotations"]) | set(other["annotations"]))
    out["tags"] = {**span["tags"], **other["tags"]}
    out["shared"] = span["shared"] or other["shared"]
    out["debug"] = span["debug"] or other["debug"]
    return out


def merge(spans):
    """Trace.merge on normalised copies of spans (which must all belong to one trace)."""
    result = [normalise(s) for s in spans]
    if len(result) <= 1:
        return result
    result.sort(key=cmp_to_key(_cleanup_order))
    trace_id = result[0]["traceId"]
    for s in result[1:]:
        if len(trace_id) != 32:
            trace_id = s["traceId"]

    i, last = 0, None
    while i < len(result):
        span = dict(result[i])
        shared = span["shared"]
        span["traceId"] = trace_id if len(span["traceId"]) != len(trace_id) else span["traceId"]
        tracker = None
        while i + 1 < len(result) and result[i + 1]["id"] == span["id"]:
            nxt = result[i + 1]
            if tracker is None:
                tracker = _EndpointTracker()
                tracker.try_merge(span["localEndpoint"])
            if nxt["shared"] == shared and tracker.try_merge(nxt["localEndpoint"]):
                span = _merge_fields(span, nxt)  # a piece of the same span
                del result[i + 1]
                continue
            break
        if last is not None and last["id"] == span["id"]:
            if last["kind"] == "CLIENT" and span["kind"] == "SERVER" and not shared:
                shared = span["shared"] = True  # the server end of the client's RPC
            if shared and span["parentId"] is None and last["parentId"] is not None:
                span["parentId"] = last["parentId"]
        result[i] = last = _finish(span)
        i += 1
    return result


# ---- SpanNode.Builder ----

def _key(span_id, shared, endpoint):
    return ("shared", span_id, _ep_key(endpoint)) if shared else span_id


def build(spans):
    """The root Node of spans' trace tree (see the module doc). spans must share one trace."""
    if not spans:
        raise ValueError("spans were empty")
    cleaned = merge(spans)
    span_to_parent, key_to_node = {}, {}

    for s in cleaned:  # index
        if s["shared"]:
            span_to_parent[_key(s["id"], True, s["localEndpoint"])] = s["id"]
        else:
            span_to_parent[s["id"]] = s["parentId"]

    root = None
    for s in cleaned:  # place
        shared, ep = s["shared"], s["localEndpoint"]
        key = _key(s["id"], shared, ep)
        no_ep_key = _key(s["id"], shared, None) if ep is not None else key
        parent = None
        if shared:
            parent = s["id"]  # the client of this RPC: not ambiguous by id
        elif s["parentId"] is not None:
            parent = _key(s["parentId"], True, ep)  # a local child of a shared server span?
            if parent in span_to_parent:
                span_to_parent[no_ep_key] = parent
            else:
                parent = s["parentId"]
        placed = Node(s)
        if parent is None and root is None:
            root = placed
            span_to_parent.pop(no_ep_key, None)
        elif shared:
            key_to_node[key] = key_to_node[no_ep_key] = placed
        else:
            key_to_node[no_ep_key] = placed

    if root is None:
        root = Node(None)
    root_id = root.span["id"] if root.span else None
    for child_key, parent_key in span_to_parent.items():
        child = key_to_node.get(child_key)
        if child is None:  # Zipkin fails here (NullPointerException on addChild)
            raise ValueError(f"Zipkin cannot place span key {child_key!r}: {spans}")
        parent = key_to_node.get(parent_key)
        if parent is None:
            root.add(child)  # headless: under the root
            if parent_key is None or parent_key != root_id:
                root.orphans.append(child)
        else:
            parent.add(child)

    for n in walk(root):
        n.children.sort(key=lambda c: c.span["timestamp"])  # stable, as Collections.sort
    reached = {id(n.span) for n in walk(root) if n.span is not None}
    root.lost = [s for s in cleaned if id(s) not in reached]
    return root


# ---- reading a tree ----

def walk(top):
    """top and every node below it, depth first, children in order."""
    yield top
    for c in top.children:
        yield from walk(c)


def label(span):
    return ((span["localEndpoint"] or {}).get("serviceName"), span["kind"], span["name"])


def shape(n):
    """((serviceName, kind, name), (children's shapes...)) with children in timestamp order; a
    synthetic root's label is None. Tuples all the way, so shapes can be counted and compared."""
    return (None if n.span is None else label(n.span), tuple(shape(c) for c in n.children))


def node(service, kind, name, *children):
    """The shape of a span (service, kind, name) with these children's shapes, for expectations."""
    return ((service, kind, name), tuple(children))


def window_errors(top, slack_us=1000):
    """One message per child that starts before its parent or ends after it (beyond slack_us)."""
    errors = []
    for parent in walk(top):
        if parent.span is None:
            continue
        p0, p1 = parent.span["timestamp"], parent.span["timestamp"] + parent.span["duration"]
        for child in parent.children:
            c0, c1 = child.span["timestamp"], child.span["timestamp"] + child.span["duration"]
            if not (parent.span["timestamp"] and child.span["timestamp"]):
                errors.append(f"{child!r} under {parent!r}: a timestamp is missing")
            elif c0 < p0 - slack_us or c1 > p1 + slack_us:
                errors.append(f"{child!r} [{c0}, {c1}] is outside its parent {parent!r} [{p0}, {p1}]")
    return errors


def by_trace(spans):
    """{traceId: [spans]} in output order (trace ids compared as Zipkin normalises them)."""
    out = {}
    for s in spans:
        out.setdefault(_trace_id(s["traceId"]), []).append(s)
    return out
