"""Test-side handles for the request-chain apps (apps/chain_*.py) and redis-server, in pods.

    pods = Pods()                   # pods drv, a, b, r on a private bridge; redis-server in r
    rig = ChainRig(pods, tmp_path)
    b = rig.http("b", "b3", calls=[pods.redis.url])          # chain_http.py in pod b
    a = rig.http("a", "b3", calls=[b.url])
    drv = rig.driver()
    results = drv.run("http", a.addr, count=50, concurrency=10, headers="b3")
    rig.stop()                      # every process the rig started, by pid
    pods.close()

Each service's comm is COMMS[its pod], so spans name it. In zipkin mode the rig gives each
process its own --zipkin-file; rig.zipkin_spans() reads them all back.
"""
import json

import redis

from .netns import PodNet
from .procs import CommandedProc
from .redis_env import start_redis_server

COMMS = {"drv": "chain-drv", "a": "chain-a", "b": "chain-b", "r": "redis-server"}
REDIS_PORT = 6379
KEYS = 200  # key:0 .. key:199 hold "value-<n>" for the chain's Redis GETs


class PodRedis:
    """redis-server in a pod, listening on the pod's address; our child, stopped by pid."""

    def __init__(self, pod):
        self.pod, self.ip, self.port = pod, pod.ip, REDIS_PORT
        self.url = f"redis://{pod.ip}:{REDIS_PORT}"
        self.proc = start_redis_server(pod.start, pod.ip, REDIS_PORT, lambda: self.client().ping())
        self.pid = self.proc.pid

    def client(self):
        """A redis-py client from the test process (host namespace, through the bridge)."""
        return redis.Redis(host=self.ip, port=self.port, socket_timeout=10)

    def calls(self, command):
        """How many times redis-server ran command (INFO commandstats), e.g. calls("get")."""
        with self.client() as c:
            return c.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)

    def stop(self):
        self.proc.stop()


class Pods:
    """PodNet(drv, a, b, r) with redis-server in r holding key:<n> = value-<n>; .drv .a .b .r pods."""

    def __init__(self):
        self.net = PodNet(list(COMMS))
        self.redis = None
        try:
            self.drv, self.a, self.b, self.r = (self.net[k] for k in COMMS)
            self.redis = PodRedis(self.r)
            with self.redis.client() as c:
                c.mset({f"key:{n}": f"value-{n}" for n in range(KEYS)})
        except BaseException:
            self.close()
            raise

    def close(self):
        try:
            if self.redis:
                self.redis.stop()
        finally:
            self.net.close()


class ChainService:
    """One chain_http / chain_grpc / chain_async process: .pid .comm .ip .port .addr .url."""

    def __init__(self, pod, script, scheme, propagate, calls, extra=(), zipkin_file=None):
        self.pod, self.comm, self.scheme, self.zipkin_file = pod, COMMS[pod.label], scheme, zipkin_file
        args = ["--host", pod.ip, "--comm", self.comm, "--propagate", propagate, *extra]
        for c in calls:
            args += ["--call", c]
        if zipkin_file:
            args += ["--zipkin-file", zipkin_file]
        self.proc = pod.python_app(script, *args, name=script)
        self.pid = self.proc.pid
        line = self.proc.readline()
        if not line.startswith("listening "):
            raise AssertionError(f"{script} printed {line!r} instead of 'listening <port>'")
        self.ip, self.port = pod.ip, int(line.split()[1])
        self.addr = f"{self.ip}:{self.port}"
        self.url = f"{scheme}://{self.addr}"

    def stop(self):
        self.proc.stop()


class ChainDriver(CommandedProc):
    """apps/chain_driver.py in the drv pod: sends requests only when run() says so."""

    def __init__(self, pod, zipkin_file=None):
        self.comm, self.zipkin_file = COMMS[pod.label], zipkin_file
        args = ["--host", pod.ip, "--comm", self.comm]
        args += ["--zipkin-file", zipkin_file] if zipkin_file else []
        super().__init__(pod.python_app("chain_driver.py", *args), "ready")

    def run(self, proto, target, count, concurrency=1, headers="none", first=0, sampled="1"):
        """Per request, in n order: {"n", "sent", "status", "reply"[, "details"][, "trace_id"]}."""
        return self._call(op="run", proto=proto, target=target, count=count, first=first,
                          concurrency=concurrency, headers=headers, sampled=sampled)["results"]


class ChainRig:
    """Starts chain processes in pods and stops every one of them (by pid) in stop()."""

    def __init__(self, pods, tmp_path):
        self.pods, self.tmp = pods, tmp_path
        self.started = []

    def _zipkin_file(self, label, propagate):
        return str(self.tmp / f"zipkin-{label}.jsonl") if propagate == "zipkin" else None

    def _keep(self, obj):
        self.started.append(obj)
        return obj

    def http(self, label, propagate, calls, extra=()):
        return self._keep(ChainService(getattr(self.pods, label), "chain_http.py", "http", propagate,
                                       calls, extra=extra, zipkin_file=self._zipkin_file(label, propagate)))

    def grpc(self, label, propagate, calls):
        return self._keep(ChainService(getattr(self.pods, label), "chain_grpc.py", "grpc", propagate,
                                       calls, zipkin_file=self._zipkin_file(label, propagate)))

    def event_loop(self, label, propagate, calls, barrier=0):
        return self._keep(ChainService(getattr(self.pods, label), "chain_async.py", "http", propagate,
                                       calls, extra=["--barrier", str(barrier)]))

    def driver(self, zipkin=False):
        return self._keep(ChainDriver(self.pods.drv, self._zipkin_file("drv", "zipkin" if zipkin else None)))

    def zipkin_spans(self):
        """Every span the rig's py_zipkin processes wrote so far."""
        spans = []
        for obj in self.started:
            if obj.zipkin_file:
                spans += read_spans(obj.zipkin_file)
        return spans

    def stop(self):
        for obj in reversed(self.started):
            obj.stop()
        self.started = []


def read_spans(path):
    """JSON lines of a --zipkin-file (none yet: [])."""
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
