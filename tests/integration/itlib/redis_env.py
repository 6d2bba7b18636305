"""redis-server, redis-cli and a stdin-driven Redis client for the Redis tests, and exact span checks.

    RedisServer()      redis-server 7 on a free loopback port, no persistence; .pid, .port, .stop()
    RedisDriver()      itlib/redis_driver.py in its own process (comm "it-redis"); .pid, .call(op, ...)
    redis_cli(port, *args)  one redis-cli run (a connection of its own); returns its stdout
    check(spans, rows, window)  exactly these spans (RRow), each keeping sockspan's Redis span contract
"""
import re
import subprocess
from collections import namedtuple
from pathlib import Path

import redis

from .procs import PYTHON, STEP_TIMEOUT, CommandedProc, Proc, child_env, free_port, wait_until
from .spans import CLOCK_SLACK_US, addr

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
DRIVER = Path(__file__).resolve().parent.parent / "apps" / "redis_driver.py"
DRIVER_COMM = "it-redis"
SERVER_COMM = "redis-server"

RRow = namedtuple("RRow", "kind name error statement service pid local remote")

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")
NAME = re.compile(r"[a-z][a-z0-9_.:-]*( [a-z][a-z0-9_.:-]*)?|unknown")


def start_redis_server(start, host, port, ping):
    """redis-server on host:port, no persistence, started by start(argv, name, stdin=False)
    (Proc, or a pod's start); returns its Proc once ping() says it answers."""
    proc = start([REDIS_SERVER, "--port", port, "--bind", host, "--save", "", "--appendonly", "no",
                  "--daemonize", "no", "--protected-mode", "no"], "redis-server", stdin=False)

    def up():
        if not proc.running():
            raise AssertionError(f"redis-server exited: {proc.err.text()}\n{proc.out.text()}")
        try:
            return ping()
        except (AssertionError, OSError, redis.exceptions.ConnectionError):
            return False

    wait_until(up, STEP_TIMEOUT, f"redis-server to answer PING on {host}:{port}")
    return proc


class RedisServer:
    """A private redis-server on 127.0.0.1 (our child, stopped by pid)."""

    def __init__(self):
        self.port = free_port()
        self.proc = start_redis_server(Proc, "127.0.0.1", self.port,
                                       lambda: redis_cli(self.port, "PING") == "PONG")
        self.pid = self.proc.pid

    def stop(self):
        self.proc.stop()


def redis_cli(port, *args):
    """Runs redis-cli with the command as arguments (so it sends nothing else); returns stdout."""
    p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *map(str, args)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
                       timeout=STEP_TIMEOUT)
    if p.returncode != 0:
        raise AssertionError(f"redis-cli {args} failed rc={p.returncode}: {p.stderr}")
    return p.stdout.strip()


class RedisDriver(CommandedProc):
    """A Redis client process that acts only when told to (see redis_driver.py)."""

    def __init__(self):
        super().__init__(Proc([PYTHON, DRIVER, "--comm", DRIVER_COMM], "redis_driver"), "ready")

    def call(self, op, **args):
        return self._call(op=op, **args)


def row_of(span):
    tags = span.get("tags", {})
    local, remote = span.get("localEndpoint", {}), span.get("remoteEndpoint", {})
    return RRow(kind=span.get("kind"), name=span.get("name"), error=tags.get("error"),
                statement=tags.get("db.statement"), service=local.get("serviceName"),
                pid=tags.get("process.pid"),
                local=f"{local.get('ipv4')}:{local.get('port')}",
                remote=f"{remote.get('ipv4')}:{remote.get('port')}")


def server_row(name, pid, server, client, error=None, statement=None):
    """A SERVER span of redis-server: local = its listening port, remote = the client's port."""
    return RRow("SERVER", name, error, statement, SERVER_COMM, str(pid), addr(*server), addr(*client))


def client_row(name, pid, server, client, error=None, statement=None, service=DRIVER_COMM):
    """A CLIENT span of a client process: local = its ephemeral port, remote = the server's."""
    return RRow("CLIENT", name, error, statement, service, str(pid), addr(*client), addr(*server))


def contract_errors(span):
    """Ways a Redis span breaks sockspan's promises beyond the Zipkin schema ([] when it keeps them)."""
    errs = []
    tags = span.get("tags", {})
    if not HEX32.fullmatch(str(span.get("traceId"))) or not HEX16.fullmatch(str(span.get("id"))):
        errs.append("trace or span id malformed")
    if span.get("kind") not in ("SERVER", "CLIENT"):
        errs.append(f"kind {span.get('kind')!r}")
    if not NAME.fullmatch(str(span.get("name"))):
        errs.append(f"name is not a lowercase command: {span.get('name')!r}")
    if tags.get("db.system") != "redis" or tags.get("db.operation") != span.get("name"):
        errs.append(f"db.system/db.operation: {tags}")
    if any(k.startswith("http.") for k in tags):
        errs.append(f"HTTP tags on a Redis span: {tags}")
    if not str(tags.get("process.pid", "")).isdigit():
        errs.append("process.pid missing")
    if not isinstance(span.get("duration"), int) or span["duration"] < 1:
        errs.append(f"duration {span.get('duration')!r}")
    for ep in ("localEndpoint", "remoteEndpoint"):
        if not span.get(ep, {}).get("port") or span.get(ep, {}).get("ipv4") != "127.0.0.1":
            errs.append(f"{ep} {span.get(ep)!r}")
    return errs


def of_port(spans, port):
    """Spans of exchanges with the Redis server on port (SERVER local side, CLIENT remote side)."""
    return [s for s in spans
            if (s.get("kind") == "SERVER" and s.get("localEndpoint", {}).get("port") == port)
            or (s.get("kind") == "CLIENT" and s.get("remoteEndpoint", {}).get("port") == port)]


def of_kind(spans, kind):
    return [s for s in spans if s.get("kind") == kind]


ANY_PORT = "127.0.0.1:*"


def check(spans, expected, window):
    """Exactly `expected` (RRows in exchange order); each span keeps the contract and lies in window.

    An expected remote of ANY_PORT stands for a client whose port the test
    cannot know (redis-cli): only its address is compared.
    """
    bad = [f"{s}\n    -> {e}" for s in spans for e in [contract_errors(s)] if e]
    assert not bad, "Redis spans breaking the contract:\n" + "\n".join(bad[:5])
    ordered = sorted(enumerate(spans), key=lambda p: (p[1]["timestamp"], p[0]))
    rows = [row_of(s) for _, s in ordered]
    rows = [r._replace(remote=ANY_PORT) if i < len(expected) and expected[i].remote == ANY_PORT
            and r.remote.startswith("127.0.0.1:") else r for i, r in enumerate(rows)]
    assert rows == expected
    t0, t1 = window
    for _, s in ordered:
        start, end = s["timestamp"], s["timestamp"] + s["duration"]
        assert t0 - CLOCK_SLACK_US <= start and end <= t1 + CLOCK_SLACK_US, (
            f"span [{start}, {end}] lies outside the test's window [{t0}, {t1}]: {s}")
    ids = [(s["traceId"], s["id"]) for s in spans]
    assert len(set(ids)) == len(ids), "duplicate (traceId, id) among spans"
