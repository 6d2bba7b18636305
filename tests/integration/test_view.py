"""The tree view (#10): sockspan in a pseudo-terminal while a chain of real services runs.

The chain (itlib/chain.py): driver (pod drv) -> A (pod a) -> B (pod b) -> redis-server (pod r),
HTTP/1.1 with B3 headers copied, one sockspan tracing all four processes, so each request is one
trace of six spans. B answers 500 to request FAIL (A then answers 502) and sleeps
chain_http.SLOW_SECONDS before serving request SLOW. The trace ids are the driver's B3 ones.

One module-wide run (the `recorded` fixture) captures the three requests with two agents at once:
    live      --view tree -o FILE, colours on, in a 120-column terminal: every trace
    filtered  --view tree -o FILE2 --errors, in the same kind of terminal
and the tests check what the terminals showed, what the files hold, and what `sockspan view`
makes of the files. Expected texts are exact but for times: offsets, durations and bars vary
from run to run, and are read back only to be compared with the replay of the same spans.
--stats is checked last, on its own run against a plain HTTP server.
"""
import json
import re
from contextlib import ExitStack

import pytest

from itlib.apps import curl
from itlib.chain import COMMS
from itlib.procs import STEP_TIMEOUT, wait_until
from itlib.sockspan import Sockspan, parse_span_line
from itlib.view import ANSI, PtySockspan, parse_blocks, replay, span_row

DRV, A, B, REDIS = (COMMS[k] for k in ("drv", "a", "b", "r"))
NAME = "get /chain/{id}"
OK, FAIL, SLOW = 1, 7, 9
COLS = 120
SLOW_US = 1_000_000  # chain_http.SLOW_SECONDS


def tree(status_drv, status_a, status_b):
    """(error mark, depth, service, kind, name, status) per line, in tree order."""
    def err(status):
        return status >= 500
    return [(err(status_drv), 0, DRV, "CLIENT", NAME, str(status_drv)),
            (err(status_a), 1, A, "SERVER", NAME, str(status_a)),
            (err(status_b), 2, A, "CLIENT", NAME, str(status_b)),
            (err(status_b), 3, B, "SERVER", NAME, str(status_b)),
            (False, 4, B, "CLIENT", "get", "-"),
            (False, 5, REDIS, "SERVER", "get", "-")]


EXPECTED = {OK: tree(200, 200, 200), FAIL: tree(502, 502, 500), SLOW: tree(200, 200, 200)}


class Recorded:
    """What the module's run left: trace ids by request, terminals' texts, the JSON files."""


@pytest.fixture(scope="module")
def recorded(pods, tmp_path_factory):
    from itlib.chain import ChainRig
    tmp = tmp_path_factory.mktemp("view")
    rig = ChainRig(pods, tmp)
    rec = Recorded()
    rec.json, rec.json_errors = tmp / "live.jsonl", tmp / "errors.jsonl"
    try:
        b = rig.http("b", "b3", [pods.redis.url], extra=["--fail", str(FAIL), "--slow", str(SLOW)])
        a = rig.http("a", "b3", [b.url])
        drv = rig.driver()
        pids = ["-p", drv.pid, "-p", a.pid, "-p", b.pid, "-p", pods.redis.pid]
        live = PtySockspan([*pids, "--view", "tree", "--color", "always", "-o", rec.json], cols=COLS)
        filtered = PtySockspan([*pids, "--view", "tree", "--color", "always", "--errors",
                                "-o", rec.json_errors], cols=COLS)
        with ExitStack() as stack:
            stack.enter_context(live)
            stack.enter_context(filtered)
            results = {n: drv.run("http", a.addr, count=1, first=n, headers="b3")[0] for n in (OK, FAIL, SLOW)}
            rec.trace = {n: r["trace_id"] for n, r in results.items()}
            # Shown from the tick, once the grace passed: before the stop.
            live.wait_for_traces({t: 6 for t in rec.trace.values()})
            filtered.wait_for_traces({rec.trace[FAIL]: 6})
        rec.status = {n: r["status"] for n, r in results.items()}
        rec.live, rec.filtered = live.text(), filtered.text()
        rec.live_err = live.err.text()
    finally:
        rig.stop()
    return rec


def spans_of(path):
    return [parse_span_line(line, i) for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def plain_width(line):
    return len(ANSI.sub("", line))


def test_live_tree_of_each_request(recorded):
    assert recorded.status == {OK: 200, FAIL: 502, SLOW: 200}
    blocks = parse_blocks(recorded.live)
    assert sorted(blocks) == sorted(recorded.trace.values()), recorded.live
    for n, trace_id in recorded.trace.items():
        header, *lines = blocks[trace_id]
        assert ANSI.sub("", header).split()[1:5] == ["trace", trace_id, "6", "spans"]
        assert not header.endswith("incomplete")
        assert [span_row(line) for line in lines] == EXPECTED[n], "\n".join(blocks[trace_id])
        # Colours: error lines red from the first column to the last, others plain; headers bold.
        for line, row in zip(lines, EXPECTED[n]):
            assert line.startswith("\x1b[31m!") == row[0] and line.endswith("\x1b[0m") == row[0], repr(line)
        assert header.startswith("\x1b[1m")
        assert max(plain_width(line) for line in lines) == COLS
    assert "3 traces shown, 0 filtered out, 0 shown before they were ready" in recorded.live_err


def test_replay_of_the_json_file_is_the_live_tree(recorded):
    rc, out, err = replay(recorded.json, "--color", "always", env={"COLUMNS": str(COLS)})
    assert rc == 0, err
    assert "18 spans read; skipped: 0 not spans, 0 not JSON, 0 beyond" in err
    assert parse_blocks(out) == parse_blocks(recorded.live)


def test_replay_of_a_collector_answer_and_stdin(recorded, tmp_path):
    """A list of traces, each a list of spans, as GET /api/v2/traces returns them; and stdin."""
    by_trace = {}
    for s in spans_of(recorded.json):
        by_trace.setdefault(s["traceId"], []).append(s)
    answer = tmp_path / "traces.json"
    answer.write_text(json.dumps(list(by_trace.values())))
    rc, out, err = replay(answer, "--color", "always", env={"COLUMNS": str(COLS)})
    assert rc == 0, err
    assert parse_blocks(out) == parse_blocks(recorded.live)
    rc, out, err = replay("-", "--color", "never", "--trace-id", recorded.trace[FAIL],
                          env={"COLUMNS": str(COLS)}, stdin=answer.read_bytes())
    assert rc == 0, err
    assert {t: [ANSI.sub("", line) for line in b] for t, b in parse_blocks(recorded.live).items()
            if t == recorded.trace[FAIL]} == parse_blocks(out)


def test_live_filter_shows_and_exports_only_what_it_keeps(recorded):
    """--errors: the view keeps whole traces with an error; the export keeps the error spans.
    (Each agent times spans with its own clock reading: lines are compared without times.)"""
    blocks = parse_blocks(recorded.filtered)
    assert list(blocks) == [recorded.trace[FAIL]], recorded.filtered
    assert [span_row(line) for line in blocks[recorded.trace[FAIL]][1:]] == EXPECTED[FAIL]
    every = spans_of(recorded.json)
    kept = spans_of(recorded.json_errors)
    assert sorted((s["traceId"], s["id"], s["kind"]) for s in kept) == sorted(
        (s["traceId"], s["id"], s["kind"]) for s in every if "error" in s.get("tags", {}))
    assert len(kept) == 4


def traces_where(recorded, pred):
    """Trace ids of the run (by request) where one span meets pred."""
    spans = spans_of(recorded.json)
    return {t for t in recorded.trace.values() if any(pred(s) for s in spans if s["traceId"] == t)}


def status(s):
    return s.get("tags", {}).get("http.status_code")


FILTERS = [
    (["--errors"], lambda r: {r.trace[FAIL]}),
    (["--not", "--errors"], lambda r: {r.trace[OK], r.trace[SLOW]}),
    (["--status", "5xx"], lambda r: {r.trace[FAIL]}),
    (["--status", "502"], lambda r: {r.trace[FAIL]}),
    (["--status", "200"], lambda r: {r.trace[OK], r.trace[SLOW]}),
    (["--path-prefix", f"/chain/{FAIL}"], lambda r: {r.trace[FAIL]}),
    (["--path-prefix", f"/chain/{FAIL}", "--path-prefix", f"/chain/{SLOW}"],
     lambda r: {r.trace[FAIL], r.trace[SLOW]}),
    (["--errors", "--path-prefix", f"/chain/{SLOW}"], lambda r: set()),
    (["--trace-id", "{FAIL}"], lambda r: {r.trace[FAIL]}),
    (["--not", "--trace-id", "{FAIL}"], lambda r: {r.trace[OK], r.trace[SLOW]}),
    (["--service", REDIS], lambda r: set(r.trace.values())),
    (["--not", "--service", B], lambda r: set()),
    (["--protocol", "redis"], lambda r: set(r.trace.values())),
    (["--not", "--protocol", "http1"], lambda r: set()),
    (["--protocol", "grpc"], lambda r: set()),
    # What the recorded durations say; the slow request's trace is in it whatever the machine.
    (["--min-duration", "1s"], lambda r: traces_where(r, lambda s: s["duration"] >= SLOW_US) | {r.trace[SLOW]}),
    (["--not", "--min-duration", "1s"], lambda r: set(r.trace.values()) - traces_where(
        r, lambda s: s["duration"] >= SLOW_US)),
    # The decision Python makes from the ids: the top 53 of their low 64 bits below rate * 2^53.
    (["--sample-rate", "0.5"], lambda r: {t for t in r.trace.values() if int(t[-16:], 16) >> 11 < 2 ** 52}),
]


@pytest.mark.parametrize("args,expected", FILTERS, ids=[" ".join(a) for a, _ in FILTERS])
def test_replay_filters(recorded, args, expected):
    args = [a.format(FAIL=recorded.trace[FAIL]) for a in args]
    rc, out, err = replay(recorded.json, *args, env={"COLUMNS": str(COLS)})
    assert rc == 0, err
    assert set(parse_blocks(out)) == expected(recorded), out
    assert not [line for line in out.splitlines() if line and not ANSI.sub("", line)[0] in " !0123456789"], out


def test_terminal_default_is_the_tree_and_o_keeps_stdout_quiet(pods, rig, tmp_path):
    """No --view: the tree on a terminal; -o FILE: nothing on the terminal; not a terminal: lines."""
    b = rig.http("b", "b3", [pods.redis.url])
    a = rig.http("a", "b3", [b.url])
    drv = rig.driver()
    pids = ["-p", drv.pid, "-p", a.pid, "-p", b.pid, "-p", pods.redis.pid]
    quiet_file = tmp_path / "quiet.jsonl"
    with ExitStack() as stack:
        tree_run = stack.enter_context(PtySockspan(pids, cols=100))
        quiet = stack.enter_context(PtySockspan([*pids, "-o", quiet_file], cols=100))
        lines = stack.enter_context(Sockspan(pids, tmp_path, output="text"))
        [r] = drv.run("http", a.addr, count=1, first=OK, headers="b3")
        tree_run.wait_for_traces({r["trace_id"]: 6})
        wait_until(lambda: len([s for s in spans_of(quiet_file)]) == 6 or None, STEP_TIMEOUT,
                   "6 spans in the -o file")
    [block] = parse_blocks(tree_run.text()).values()
    assert [span_row(line) for line in block[1:]] == EXPECTED[OK]
    assert "\x1b[" in tree_run.text()  # colours: auto on a terminal
    assert quiet.text() == ""
    assert len(lines.stdout_lines) == 6
    assert all(r["trace_id"] in line for line in lines.stdout_lines), lines.stdout_lines


def test_view_needs_no_privilege(recorded):
    """sockspan view runs as nobody: no BPF, no root."""
    import subprocess
    from itlib.sockspan import BIN
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(BIN), "view", "-",
                        "--color", "never"], input=recorded.json.read_bytes(), capture_output=True,
                       timeout=STEP_TIMEOUT, env={"COLUMNS": str(COLS)})
    assert p.returncode == 0, p.stderr.decode()
    assert set(parse_blocks(p.stdout.decode())) == set(recorded.trace.values())


STATS_LINE = re.compile(r"^sockspan: stats: \d+ events/s, \d+ spans/s, \d+ traces open; dropped so far: "
                        r"(?P<lost>\d+) events \(ring buffer full\), \d+ connections evicted, "
                        r"\d+ exchanges untracked, \d+ view spans; export: 0 queued, 0 dropped$")


def test_stats_lines_while_running_and_the_report_on_exit(sockspan, py_server):
    ss = sockspan("-p", py_server.pid, "--stats", "0.2").start()
    [c] = curl(py_server.url("/status/200"))
    wait_until(lambda: len([l for l in ss.proc.err.transcript if STATS_LINE.match(l)]) >= 2 or None,
               STEP_TIMEOUT, "two --stats lines")
    ss.stop()
    err = ss.stderr().splitlines()
    stats = [l for l in err if l.startswith("sockspan: stats:")]
    assert stats and all(STATS_LINE.match(l) for l in stats), stats
    assert any(l.startswith("sockspan: 1 spans; events:") for l in err), err
    assert len(ss.spans) == 1 and c["status"] == 200


def test_open_traces_are_shown_at_exit(py_server, tmp_path):
    """A trace still in its grace period when sockspan stops is shown on the way out; a trace of
    one span is one line, its time in place of the offset."""
    out = tmp_path / "one.jsonl"
    with PtySockspan(["-p", py_server.pid, "--view", "tree", "--view-grace", "3600", "-o", out], cols=80) as ss:
        curl(py_server.url("/status/404"))
        wait_until(lambda: len(spans_of(out)) == 1 or None, STEP_TIMEOUT, "the span in the -o file")
        assert ss.text() == ""  # an hour of grace: nothing yet
    lines = ss.text().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r" \d\d:\d\d:\d\d it-httpd SERVER get /status/\{id\} +404 +[0-9.]+(µs|ms|s)", ANSI.sub("", lines[0])), lines
