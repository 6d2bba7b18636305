"""Test-side handles for the Zipkin test collector (apps/zipkin_collector.py) and sockspan's /metrics.

    collector fixture -> Collector; .url, .port, .pid, .received(), .spans(), .respond(status)...
    scrape(port)      -> Metrics parsed by prometheus_client's own text parser
"""
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .procs import CommandedProc, python_app

# Urllib without the environment's proxies: every request stays on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Collector(CommandedProc):
    def __init__(self, tls=None):
        args = ["--tls", *map(str, tls)] if tls else []
        super().__init__(python_app("zipkin_collector.py", *args, name="zipkin_collector"), "listening ")
        self.port = int(self.greeting.split()[1])
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/api/v2/spans"

    def respond(self, status):
        self._call(op="respond", status=status)

    def delay(self, seconds):
        self._call(op="delay", seconds=seconds)

    def hang(self):
        self._call(op="hang")

    def down(self):
        self._call(op="down")

    def up(self):
        self._call(op="up")

    def received(self):
        """{"requests": [...], "spans": [...]}: everything so far; fails on any invalid body."""
        got = self._call(op="received")
        bad = [r for r in got["requests"] if r["errors"]]
        assert not bad, f"the collector refused invalid bodies: {bad[:3]}"
        return got

    def spans(self):
        return self.received()["spans"]


@pytest.fixture
def collector():
    started = []

    def make(tls=None):
        c = Collector(tls)
        started.append(c)
        return c

    yield make
    for c in started:
        c.stop()


def http_get(url, timeout=10):
    """(status, body text) of a GET; HTTP errors are answers too."""
    try:
        with _OPENER.open(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Metrics:
    """Samples of one scrape: m["name", {"label": "v"}] -> value. A missing sample fails the
    test, so a renamed metric cannot pass silently; .get() is for samples that may be absent."""

    def __init__(self, text):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = {}
        for f in self.families.values():
            for s in f.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def __getitem__(self, key):
        name, labels = key if isinstance(key, tuple) else (key, {})
        k = (name, frozenset(labels.items()))
        assert k in self.samples, f"no sample {name}{labels} in /metrics:\n{self.text}"
        return self.samples[k]

    def get(self, name, labels=None, default=0):
        return self.samples.get((name, frozenset((labels or {}).items())), default)


def scrape(port, host="127.0.0.1"):
    status, text = http_get(f"http://{host}:{port}/metrics")
    assert status == 200, f"/metrics answered {status}: {text}"
    return Metrics(text)
