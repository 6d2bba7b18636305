"""Pods selected in the kernel: two pods of real server processes in kubelet-like
cgroups (namespaces a and b, different labels), their Pods served by the fake API;
--namespace, --selector, --pod and --exclude-namespace trace the chosen pod only,
exactly, and the other pod's traffic makes no kernel event at all (the filter map
lookup stops it). A pod added after the start is traced within a bounded wait; a
deleted one leaves nothing in the kernel's filter."""
import pytest

from itlib.collector import scrape
from itlib.kube import NODE, SYNCED, wait_for_stderr
from itlib.procs import free_port, wait_until
from itlib.sockspan import run_cli

# How long a pod's news may take to reach the kernel's filter in these tests
# (sockspan recounts every second and soon after the API's pods change).
NEWS_TIMEOUT = 10.0


def api_args(kube):
    """The fake API and its node, without --cgroup: the selection alone says what is traced."""
    return ["--kubeconfig", kube.kubeconfig, "--node-name", NODE]


def pod_with_server(kube, server, ns, ip, labels, layout="cgroupfs"):
    srv = server(ip)
    p = kube.pod(ns, "web", "Deployment", ip=ip, layout=layout, labels=labels)
    p.enter(srv.pid)
    kube.api.set("pods", p.obj)
    return srv, p


@pytest.fixture
def two_pods(kube, server):
    """a/web-... (app=x, cgroupfs layout) and b/web-... (app=y, systemd layout)."""
    a = pod_with_server(kube, server, "a", "127.0.0.2", {"app": "x"})
    b = pod_with_server(kube, server, "b", "127.0.0.3", {"app": "y"}, layout="systemd")
    return {"a": a, "b": b}


def served_by(spans, srv):
    return [s for s in spans if s["kind"] == "SERVER" and s["localEndpoint"].get("port") == srv.port]


def wait_metric(mport, name, want, what):
    wait_until(lambda: scrape(mport)[name] == want, NEWS_TIMEOUT, what, interval=0.1)


def events(mport):
    return scrape(mport)["sockspan_kernel_events_total"]


def request(d, srv, n):
    """n requests on a fresh keep-alive connection of the driver d (a client in no pod)."""
    d.connect(srv.host, srv.port)
    d.requests([("GET", "/status/200")] * n)


def spans_written(ss):
    """Spans in sockspan's output file so far (whole lines)."""
    return ss.out_file.read_text().count("\n") if ss.out_file.exists() else 0


def select_args(option, two_pods):
    if option == "--pod":
        return ["--pod", f"a/{two_pods['a'][1].name}"]
    return {"--namespace": ["--namespace", "a"], "--selector": ["--selector", "app=x,pod-template-hash=7d4b9c8f6d"],
            "--exclude-namespace": ["--exclude-namespace", "a"]}[option]


@pytest.mark.parametrize("option", ["--namespace", "--selector", "--pod", "--exclude-namespace"])
def test_one_pod_traced_the_other_costs_no_event(kube, two_pods, sockspan, driver, option):
    """Each option picks one of the two pods (--exclude-namespace a: b's); the other one's
    requests make 0 kernel events, the chosen one's exactly their spans."""
    chosen, other = ("b", "a") if option == "--exclude-namespace" else ("a", "b")
    (srv, _), (other_srv, _) = two_pods[chosen], two_pods[other]
    d, mport = driver(), free_port()
    with sockspan(*api_args(kube), *select_args(option, two_pods), "--metrics", f"127.0.0.1:{mport}") as ss:
        wait_for_stderr(ss, SYNCED, "sockspan to list the pods")
        wait_metric(mport, "sockspan_k8s_pods_traced", 1, "the chosen pod's cgroups in the kernel's filter")
        m = scrape(mport)
        assert m["sockspan_k8s_pods_selected"] == 1
        assert m["sockspan_traced_cgroups"] == 2, "the pod's cgroup and its container's"
        request(d, other_srv, 3)
        assert events(mport) == 0, "the unselected pod's syscalls reached the ring buffer"
        request(d, srv, 2)
        assert events(mport) > 0
    assert [s["localEndpoint"]["serviceName"] for s in served_by(ss.spans, srv)] == [f"{chosen}.web"] * 2
    assert len(ss.spans) == 2, ss.spans  # nothing from the other pod, nor from the client outside pods
    assert served_by(ss.spans, other_srv) == []


def test_pod_added_after_start_then_deleted(kube, sockspan, server, driver):
    """--namespace a with no pod of a at first: a pod created later (its cgroups made, a
    process moved in, an ADDED event) is traced within a bounded wait; once DELETED and
    its cgroups removed, the kernel's filter holds none of its cgroups."""
    b_srv, _ = pod_with_server(kube, server, "b", "127.0.0.3", {"app": "y"})
    d, mport = driver(), free_port()
    with sockspan(*api_args(kube), "--namespace", "a", "--metrics", f"127.0.0.1:{mport}") as ss:
        wait_for_stderr(ss, SYNCED, "sockspan to list the pods")
        m = scrape(mport)
        assert (m["sockspan_k8s_pods_selected"], m["sockspan_traced_cgroups"]) == (0, 0)
        request(d, b_srv, 1)
        assert events(mport) == 0

        srv, late = pod_with_server(kube, server, "a", "127.0.0.2", {"app": "x"})
        wait_metric(mport, "sockspan_k8s_pods_traced", 1, "the new pod's cgroups in the kernel's filter")
        assert scrape(mport)["sockspan_traced_cgroups"] == 2
        request(d, srv, 2)
        wait_until(lambda: spans_written(ss) == 2, NEWS_TIMEOUT, "the new pod's spans, named while it is known")

        kube.api.delete("pods", late.obj)
        late.close()
        kube.pods.remove(late)
        wait_metric(mport, "sockspan_traced_cgroups", 0, "the deleted pod's cgroups out of the kernel's filter")
        assert scrape(mport)["sockspan_k8s_pods_selected"] == 0
        # The connection seen while the pod was traced still tells its close, so that it
        # is forgotten: the socket hooks (this suite's default here) know it was traced.
        d.close()
        wait_metric(mport, "sockspan_connections", 0, "the pod's last connection forgotten on close")
        before = events(mport)
        request(d, srv, 2)  # the same process, now in no pod
        assert events(mport) == before
    assert [s["localEndpoint"]["serviceName"] for s in ss.spans] == ["a.web"] * 2, ss.spans


def test_selection_with_cgroup_dirs_is_a_union(kube, two_pods, sockspan, driver):
    """--namespace a --cgroup <b's pod cgroup>: both are traced (the union), and spans of
    b's pod are named from the API all the same."""
    (a_srv, _), (b_srv, b) = two_pods["a"], two_pods["b"]
    d, mport = driver(), free_port()
    with sockspan(*api_args(kube), "--namespace", "a", "--cgroup", b.leaf.parent,
                  "--metrics", f"127.0.0.1:{mport}") as ss:
        wait_for_stderr(ss, SYNCED, "sockspan to list the pods")
        wait_metric(mport, "sockspan_traced_cgroups", 4, "both pods' cgroups in the kernel's filter")
        request(d, a_srv, 1)
        request(d, b_srv, 1)
    assert sorted(s["localEndpoint"]["serviceName"] for s in ss.spans) == ["a.web", "b.web"]


@pytest.mark.parametrize("args, says", [
    (["--namespace", "a"], "need the Kubernetes API server"),
    (["--exclude-namespace", "kube-system"], "need the Kubernetes API server"),
    (["--namespace", "A_b"], "invalid --namespace 'A_b'"),
    (["--pod", "nameonly"], "invalid --pod 'nameonly' (expected NAMESPACE/NAME)"),
    (["--selector", "app"], "invalid --selector 'app'"),
])
def test_selection_options_refused(args, says, monkeypatch):
    """Without an API server (no kubeconfig, not in a pod) selecting pods is an error at
    start, not a capture of nothing; malformed values are refused."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("SOCKSPAN_KUBECONFIG", raising=False)
    rc, out, err = run_cli(*args, "-d", "1")
    assert rc != 0, err
    assert says in err, err
