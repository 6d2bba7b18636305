"""Redis through sockspan: redis-server 7 traced by pid gives SERVER spans, client processes
traced by pid give CLIENT spans; RESP2 and RESP3, pipelining, MULTI/EXEC, pub/sub, blocking
commands, error replies, redis-benchmark.

Clients: redis-cli with the command as arguments (one connection each, nothing else sent),
itlib/redis_driver.py (redis-py 4.3.4, or a plain socket for RESP3) waiting on stdin, and
redis-benchmark. Every test compares the exact spans.
"""
import json
import subprocess
from collections import Counter

from itlib.procs import STEP_TIMEOUT, child_env, now_us, wait_until
from itlib.redis_env import check, client_row, contract_errors, of_kind, redis_cli, server_row
from itlib.spans import CLOCK_SLACK_US

LO = "127.0.0.1"


def both_sides(name, srv, drv, lport, error=None, statement=None):
    """The SERVER row (redis-server) and the CLIENT row (the driver) of one command."""
    server, client = (LO, srv.port), (LO, lport)
    return (server_row(name, srv.pid, server, client, error, statement),
            client_row(name, drv.pid, server, client, error, statement))


def check_both(spans, rows, window):
    check(of_kind(spans, "SERVER"), [r[0] for r in rows], window)
    check(of_kind(spans, "CLIENT"), [r[1] for r in rows], window)


# (redis-cli arguments, its output, span name, error tag)
CLI_COMMANDS = [
    (("SET", "greeting", "hello"), "OK", "set", None),
    (("GET", "greeting"), "hello", "get", None),
    (("HSET", "user:1", "name", "arthur"), "1", "hset", None),
    (("INCR", "greeting"), "ERR value is not an integer or out of range", "incr", "ERR"),
    (("GET", "user:1"), "WRONGTYPE Operation against a key holding the wrong kind of value", "get",
     "WRONGTYPE"),
    (("CONFIG", "GET", "maxmemory"), "maxmemory\n0", "config get", None),
    (("OBJECT", "ENCODING", "greeting"), "embstr", "object encoding", None),
]


def test_redis_cli_server_spans(sockspan, redis_server):
    """redis-cli runs, redis-server traced: one SERVER span each, errors tagged, no argument recorded."""
    with sockspan("--pid", redis_server.pid) as ss:
        t0 = now_us()
        outputs = [redis_cli(redis_server.port, *args) for args, *_ in CLI_COMMANDS]
        t1 = now_us()
    assert outputs == [out for _, out, *_ in CLI_COMMANDS]
    server = (LO, redis_server.port)
    check(ss.spans, [server_row(name, redis_server.pid, server, (LO, "*"), error)
                     for _, _, name, error in CLI_COMMANDS], (t0, t1))
    assert len({s["remoteEndpoint"]["port"] for s in ss.spans}) == len(CLI_COMMANDS), "one connection each"
    dump = json.dumps(ss.spans)
    for value in ("greeting", "hello", "user:1", "arthur", "maxmemory", "db.statement"):
        assert value not in dump, f"{value!r} recorded by default"


def test_redis_py_both_sides_with_statement(sockspan, redis_server, redis_driver):
    """redis-py commands one by one: CLIENT span in the client, SERVER span in redis-server, same
    names, statements with '?' for every argument under --redis-statement. A 200 KB value goes
    far past the bytes captured per syscall: the rest is skipped, the spans stay exact."""
    d = redis_driver()
    big = "v" * 200_000
    cmds = [
        (["SET", "k", "v"], "set", None, "SET ? ?"),
        (["GET", "k"], "get", None, "GET ?"),
        (["SET", "big", big], "set", None, "SET ? ?"),
        (["GET", "big"], "get", None, "GET ?"),
        (["HSET", "h", "f", "x", "g", "y"], "hset", None, "HSET ? ? ? ? ?"),
        (["HGETALL", "h"], "hgetall", None, "HGETALL ?"),
        (["INCR", "k"], "incr", "ERR", "INCR ?"),
        (["LPUSH", "h", "x"], "lpush", "WRONGTYPE", "LPUSH ? ?"),
        (["CLIENT", "SETNAME", "it-redis"], "client setname", None, "CLIENT SETNAME ?"),
        (["DEL", "k", "h"], "del", None, "DEL ? ?"),
        (["EXISTS", "k"], "exists", None, "EXISTS ?"),
        (["PING"], "ping", None, "PING"),
    ]
    with sockspan("--pid", redis_server.pid, "--pid", d.pid, "--redis-statement") as ss:
        t0 = now_us()
        lport = d.call("connect", port=redis_server.port, protocol=2)["lport"]
        results = d.call("commands", cmds=[c for c, *_ in cmds])["results"]
        t1 = now_us()
    assert ["error" in r for r in results] == [e is not None for _, _, e, _ in cmds], results
    assert results[3] == {"ok": "<200000 bytes>"}
    check_both(ss.spans, [both_sides(n, redis_server, d, lport, e, st) for _, n, e, st in cmds], (t0, t1))
    assert len(ss.spans) == 2 * len(cmds)
    assert "vvvv" not in json.dumps(ss.spans)


def test_redis_py_pipeline_and_transaction(sockspan, redis_server, redis_driver):
    """A pipeline of 50 commands written at once: exactly 50 spans on each side, in order;
    then MULTI/EXEC: every queued command is a span (answered QUEUED), EXEC one more.
    The connection is older than sockspan: which side is the client comes from who sends
    the commands (neither process is inside a socket call while the probes attach)."""
    d = redis_driver()
    pipeline = [["SET", f"key:{i}", i] if i % 2 == 0 else ["GET", f"key:{i - 1}"] for i in range(50)]
    transaction = [["SET", "t", "1"], ["INCR", "t"], ["HGET", "t", "f"], ["GET", "t"]]
    lport = d.call("connect", port=redis_server.port, protocol=2)["lport"]
    with sockspan("--pid", redis_server.pid, "--pid", d.pid) as ss:
        t0 = now_us()
        piped = d.call("pipeline", cmds=pipeline, transaction=False)["results"]
        txn = d.call("pipeline", cmds=transaction, transaction=True)["results"]
        t1 = now_us()
    assert piped[:2] == [{"ok": "True"}, {"ok": "b'0'"}] and len(piped) == 50
    assert [list(r) for r in txn] == [["ok"], ["ok"], ["error"], ["ok"]], txn
    names = [c[0].lower() for c in pipeline] + ["multi"] + [c[0].lower() for c in transaction] + ["exec"]
    check_both(ss.spans, [both_sides(n, redis_server, d, lport) for n in names], (t0, t1))
    assert len(ss.spans) == 2 * (50 + 6)


def run_benchmark(port):
    """redis-benchmark, 16 commands per write, one client: 1000 SETs then 1000 GETs."""
    p = subprocess.run(["redis-benchmark", "-h", LO, "-p", str(port), "-P", "16", "-n", "1000",
                        "-t", "set,get", "-c", "1", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=child_env(), timeout=STEP_TIMEOUT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_redis_benchmark_pipelined(sockspan, redis_server):
    """redis-benchmark -P 16: one SERVER span per command redis-server executed, by its own count."""
    redis_cli(redis_server.port, "CONFIG", "RESETSTAT")
    with sockspan("--pid", redis_server.pid) as ss:
        t0 = now_us()
        out = run_benchmark(redis_server.port)
        t1 = now_us()
    assert "SET" in out and "GET" in out
    # What the server counted (after the run: the INFO call is not traced), by command.
    stats = redis_cli(redis_server.port, "INFO", "commandstats")
    calls = Counter()
    for line in stats.splitlines():
        if line.startswith("cmdstat_"):
            name, fields = line[len("cmdstat_"):].split(":", 1)
            calls[name.replace("|", " ")] = int(dict(f.split("=") for f in fields.split(","))["calls"])
    calls.pop("config resetstat")
    # redis-benchmark writes whole batches of 16 (63 x 16 = 1008 of each) after 2 CONFIG GETs.
    assert calls == Counter({"set": 1008, "get": 1008, "config get": 2})
    assert Counter(s["name"] for s in ss.spans) == calls
    bad = [(s, contract_errors(s)) for s in ss.spans if contract_errors(s)]
    assert not bad, bad[:3]
    assert {(s["kind"], s["localEndpoint"]["port"], s["tags"]["process.pid"]) for s in ss.spans} == {
        ("SERVER", redis_server.port, str(redis_server.pid))}
    assert not any("error" in s["tags"] for s in ss.spans)
    assert all(t0 - CLOCK_SLACK_US <= s["timestamp"] <= t1 for s in ss.spans)


def test_pubsub_and_blocking(sockspan, redis_server, redis_driver):
    """SUBSCRIBE is one span ending at its confirmations; published messages make no span;
    UNSUBSCRIBE without channels ends at its last confirmation. A BLPOP's span lasts until
    the RPUSH that answers it."""
    sub, blocker = redis_driver(), redis_driver()
    port = redis_server.port
    with sockspan("--pid", redis_server.pid, "--pid", sub.pid, "--pid", blocker.pid) as ss:
        t0 = now_us()
        s = sub.call("subscribe", port=port, channels=["news", "alerts"])
        for ch, msg in [("news", "one"), ("alerts", "two"), ("news", "three")]:
            assert redis_cli(port, "PUBLISH", ch, msg) == "1"
        msgs = sub.call("messages", n=3)["messages"]
        unsub = sub.call("unsubscribe")["confirmations"]

        blport = blocker.call("connect", port=port, protocol=2)["lport"]
        blocker.proc.send_line(json.dumps({"op": "commands", "cmds": [["BLPOP", "jobs", "20"]]}))
        wait_until(lambda: "blocked_clients:1" in redis_cli(port, "INFO", "clients"), STEP_TIMEOUT,
                   "BLPOP to block")
        t_push = now_us()
        assert redis_cli(port, "RPUSH", "jobs", "job1") == "1"
        popped = json.loads(blocker.proc.readline())["results"]
        t1 = now_us()
    assert [c[0] for c in s["confirmations"]] == ["subscribe", "subscribe"]
    assert msgs == [["message", "news", "one"], ["message", "alerts", "two"], ["message", "news", "three"]]
    assert [c[0] for c in unsub] == ["unsubscribe", "unsubscribe"]
    assert popped == [{"ok": "(b'jobs', b'job1')"}]

    server = (LO, port)
    polls = [x for x in ss.spans if x["name"] == "info"]
    assert polls and all(x["kind"] == "SERVER" and "error" not in x["tags"] for x in polls)
    spans = [x for x in ss.spans if x["name"] != "info"]
    sub_rows = [both_sides(n, redis_server, sub, s["lport"]) for n in ("subscribe", "unsubscribe")]
    check(of_kind(spans, "CLIENT"), [sub_rows[0][1], sub_rows[1][1],
                                     client_row("blpop", blocker.pid, server, (LO, blport))], (t0, t1))
    check(of_kind(spans, "SERVER"), [sub_rows[0][0]] +
          [server_row("publish", redis_server.pid, server, (LO, "*"))] * 3 +
          [sub_rows[1][0], server_row("blpop", redis_server.pid, server, (LO, blport)),
           server_row("rpush", redis_server.pid, server, (LO, "*"))], (t0, t1))
    # The BLPOP spans cover the wait: they start before the RPUSH was sent and end after it.
    for x in spans:
        if x["name"] == "blpop":
            assert x["timestamp"] < t_push < x["timestamp"] + x["duration"], x


def test_resp3_hello3(sockspan, redis_server, redis_driver):
    """HELLO 3 then RESP3 replies of many types (map, set, double, null, error, push): the same
    spans as RESP2; the CLIENT TRACKING invalidation push makes none."""
    d = redis_driver()
    port = redis_server.port
    cmds = [
        (["SET", "k", "v"], "set", None), (["GET", "k"], "get", None),
        (["HSET", "h", "a", "1", "b", "2"], "hset", None), (["HGETALL", "h"], "hgetall", None),
        (["SADD", "s", "x", "y"], "sadd", None), (["SMEMBERS", "s"], "smembers", None),
        (["ZADD", "z", "1.5", "m"], "zadd", None), (["ZSCORE", "z", "m"], "zscore", None),
        (["GET", "missing"], "get", None), (["INCR", "k"], "incr", "ERR"),
        (["CLIENT", "TRACKING", "on"], "client tracking", None), (["GET", "k"], "get", None),
    ]
    with sockspan("--pid", redis_server.pid, "--pid", d.pid) as ss:
        t0 = now_us()
        c = d.call("connect", port=port, protocol=3)
        first = d.call("commands", cmds=[x for x, *_ in cmds])["results"]
        # Another client changes the tracked key: the server pushes an invalidation.
        assert redis_cli(port, "SET", "k", "changed") == "OK"
        last = d.call("commands", cmds=[["PING"], ["PING"]])
        t1 = now_us()
    assert "'proto': 3" in c["hello"]
    assert first[3] == {"ok": "{'a': '1', 'b': '2'}"} and first[7] == {"ok": "1.5"}
    assert first[8] == {"ok": "None"} and "error" in first[9]
    assert last["results"] == [{"ok": "'PONG'"}] * 2
    assert last["pushes"] == ["['invalidate', ['k']]"]

    server, client = (LO, port), (LO, c["lport"])
    names = [("hello", None)] + [(n, e) for _, n, e in cmds] + [("ping", None)] * 2
    check(of_kind(ss.spans, "CLIENT"), [client_row(n, d.pid, server, client, e) for n, e in names], (t0, t1))
    rows = [server_row(n, redis_server.pid, server, client, e) for n, e in names]
    rows.insert(len(names) - 2, server_row("set", redis_server.pid, server, (LO, "*")))
    check(of_kind(ss.spans, "SERVER"), rows, (t0, t1))
