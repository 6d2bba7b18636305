"""Fixtures for sockspan's integration tests: real servers, real clients, the real agent.

Each fixture starts its own processes and stops exactly those (by pid) at teardown.
    sockspan(*args, output="file")  -> itlib.sockspan.Sockspan, use as a context manager
    server(host="127.0.0.1")        -> itlib.apps.PyServer (Python ThreadingHTTPServer process)
    py_server                       -> server() on 127.0.0.1
    driver()                        -> itlib.apps.Driver (Python client process, waits for commands)
    nginx                           -> itlib.nginx.Nginx (master + one worker, sendfile on)
    grpc_server(host) / grpc_client() -> itlib.grpc_apps (python3-grpcio processes)
    nghttpd(host, extra) / h2o(host)  -> itlib.h2 (cleartext HTTP/2 servers)
    redis_server / redis_driver()   -> itlib.redis_env (redis-server; redis-py client process)
    pods (module scope)             -> itlib.chain.Pods: network namespaces drv, a, b, r on a
                                       private bridge, redis-server in r
    rig                             -> itlib.chain.ChainRig: chain services and drivers in those pods
"""
import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Detailed diffs for the asserts inside the helpers (exact span comparisons live there).
pytest.register_assert_rewrite("itlib")

from itlib.apps import Driver, Peer, PyServer  # noqa: E402
from itlib.chain import ChainRig, Pods  # noqa: E402
from itlib.grpc_apps import GrpcClient, GrpcServer  # noqa: E402
from itlib.h2 import H2o, Nghttpd  # noqa: E402
from itlib.kube import KubeEnv, cgroup2_root  # noqa: E402
from itlib.nginx import Nginx  # noqa: E402
from itlib.redis_env import RedisDriver, RedisServer  # noqa: E402
from itlib.sockspan import Sockspan  # noqa: E402


@pytest.fixture
def sockspan(tmp_path):
    runs = []

    def make(*args, output="file", pidns=False):
        run = Sockspan(args, tmp_path, output=output, pidns=pidns)
        runs.append(run)
        return run

    yield make
    for run in runs:
        if run.proc and run.proc.running():
            run.proc.stop()


def _factory(cls):
    started = []

    def make(*args, **kwargs):
        obj = cls(*args, **kwargs)
        started.append(obj)
        return obj

    return make, started


@pytest.fixture
def py_server(server):
    return server()


@pytest.fixture
def kube(tmp_path):
    """Pods made of real processes and the fake API server that lists them (itlib/kube.py)."""
    env = KubeEnv(tmp_path)
    yield env
    env.close()


@pytest.fixture
def nginx():
    n = Nginx()
    yield n
    n.stop()


def _stopped_after(cls):
    """A fixture yielding a factory for cls; everything it made is stopped at teardown."""
    @pytest.fixture
    def fixture():
        make, started = _factory(cls)
        yield make
        for obj in started:
            obj.stop()
    return fixture


server = _stopped_after(PyServer)
driver = _stopped_after(Driver)
peers = _stopped_after(Peer)
grpc_server = _stopped_after(GrpcServer)
grpc_client = _stopped_after(GrpcClient)
nghttpd = _stopped_after(Nghttpd)
h2o = _stopped_after(H2o)
redis_driver = _stopped_after(RedisDriver)


@pytest.fixture
def redis_server():
    s = RedisServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def pods():
    """One private network per test module (creating it takes ~1 s); needs root."""
    if os.geteuid() != 0:
        raise AssertionError("network namespaces need root: run the tests as root")
    p = Pods()
    yield p
    p.close()


@pytest.fixture
def rig(pods, tmp_path):
    r = ChainRig(pods, tmp_path)
    yield r
    r.stop()


@pytest.fixture
def pod_cgroup():
    """A kubelet-like cgroup for processes to be traced by (--cgroup); emptied and
    removed afterwards."""
    root = cgroup2_root()
    path = root / f"sockspan-it-{os.getpid()}-{random.randrange(1 << 30)}"
    path.mkdir()
    yield path
    for pid in path.joinpath("cgroup.procs").read_text().split():
        root.joinpath("cgroup.procs").write_text(pid)
    path.rmdir()
