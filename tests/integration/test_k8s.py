"""Spans named after Kubernetes workloads: real processes in kubelet-like pod
cgroups, their Pods and Services served by a fake API server over HTTPS with
a token, sockspan reaching it through --kubeconfig. Exact names and k8s.* tags,
peers named by pod IP and by ClusterIP, renaming on MODIFIED and DELETED,
recovery after a 410 and after the watch is cut, and no API server at all."""
import json
from pathlib import Path

from itlib.apps import SERVER_COMM
from itlib.collector import scrape
from itlib.kube import NODE, SYNCED, service_object, tags_of, wait_for_stderr
from itlib.procs import STEP_TIMEOUT, free_port, wait_until


def spans_so_far(ss):
    """The spans sockspan wrote so far (a line being written is skipped)."""
    out = []
    if ss.out_file.exists():
        for line in ss.out_file.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def served_by(spans, srv):
    return [s for s in spans if s["kind"] == "SERVER" and s["localEndpoint"].get("port") == srv.port]


def names(spans):
    return [s["localEndpoint"]["serviceName"] for s in spans]


def request_until_named(ss, d, srv, want):
    """One request at a time until one of srv's SERVER spans is named want (the API's news reached sockspan)."""
    def named():
        d.requests([("GET", "/status/200")])
        return want in names(served_by(spans_so_far(ss), srv))
    wait_until(named, STEP_TIMEOUT, f"a span of {srv.host}:{srv.port} named {want}", interval=0.2)


def checkout_pod(kube, server, driver, **obj_args):
    """A server in a pod of the Deployment shop/checkout (127.0.0.2) the API knows, and a
    client in no pod (so not traced: sockspan traces the pods' cgroups only)."""
    srv, d = server("127.0.0.2"), driver()
    web = kube.pod("shop", "checkout", "Deployment", ip="127.0.0.2", **obj_args)
    web.enter(srv.pid)
    kube.api.set("pods", web.obj)
    return srv, d, web


def first_requests(ss, d, srv, n=1, synced=SYNCED):
    """Once sockspan said synced (the pods listed), n requests on a fresh connection."""
    wait_for_stderr(ss, synced, f"sockspan to say '{synced}'")
    d.connect("127.0.0.2", srv.port)
    d.requests([("GET", "/status/200")] * n)


def expect_renamed(spans, old, new):
    """Every span is named old until one is named new, and new from then on."""
    got = names(spans)
    assert got and new in got, got
    i = got.index(new)
    assert got == [old] * i + [new] * (len(got) - i), got


def test_workload_names_tags_and_peers(kube, sockspan, server, driver):
    """A Deployment's server (cgroupfs layout) called by a StatefulSet's client (systemd
    layout): both named <namespace>.<workload> with their k8s.* tags; the client's peer is
    named after the server's pod (by its IP), and after a Service (by its ClusterIP)."""
    srv, behind_svc, d = server("127.0.0.2"), server("127.0.0.4"), driver()
    web = kube.pod("shop", "checkout", "Deployment", ip="127.0.0.2", container="app")
    cli = kube.pod("shop", "loadgen", "StatefulSet", ip="127.0.0.1", container="driver", layout="systemd")
    web.enter(srv.pid)
    cli.enter(d.pid)
    kube.api.set("pods", web.obj)
    kube.api.set("pods", cli.obj)
    kube.api.set("services", service_object("shop", "payments", "127.0.0.4"))
    with sockspan(*kube.args()) as ss:
        wait_for_stderr(ss, SYNCED, "sockspan to list the pods")
        d.connect("127.0.0.2", srv.port)
        d.requests([("GET", "/status/200"), ("GET", "/status/404")])
        d.connect("127.0.0.4", behind_svc.port)
        d.requests([("GET", "/status/201")])
    server_spans = served_by(ss.spans, srv)
    client_spans = [s for s in ss.spans if s["kind"] == "CLIENT"]
    assert [(s["localEndpoint"]["serviceName"], s["remoteEndpoint"].get("serviceName"))
            for s in server_spans] == [("shop.checkout", "shop.loadgen")] * 2
    assert [(s["localEndpoint"]["serviceName"], s["remoteEndpoint"]["port"], s["remoteEndpoint"].get("serviceName"))
            for s in client_spans] == [("shop.loadgen", srv.port, "shop.checkout")] * 2 + [
                ("shop.loadgen", behind_svc.port, "shop.payments")]
    assert all(s["tags"]["process.pid"] == str(srv.pid) for s in server_spans)
    assert tags_of(server_spans[0]) == {
        "k8s.namespace.name": "shop", "k8s.pod.name": web.name, "k8s.pod.uid": web.uid,
        "k8s.container.name": "app", "k8s.node.name": NODE, "k8s.deployment.name": "checkout",
        "container.id": web.cid}
    assert tags_of(client_spans[0]) == {
        "k8s.namespace.name": "shop", "k8s.pod.name": "loadgen-0", "k8s.pod.uid": cli.uid,
        "k8s.container.name": "driver", "k8s.node.name": NODE, "k8s.statefulset.name": "loadgen",
        "container.id": cli.cid}
    assert len(ss.spans) == 5, ss.spans  # nothing from outside the pods (the Service's backend is not in one)
    pages = [q for kind, what, q in kube.api.requests if kind == "pods" and what == "list"]
    assert [q.get("continue") is not None for q in pages] == [False, True], "two pods, one a page"


def test_renamed_on_modified_and_back_to_the_process_name_on_deleted(kube, sockspan, server, driver):
    srv, d, web = checkout_pod(kube, server, driver)
    with sockspan(*kube.args()) as ss:
        first_requests(ss, d, srv)
        web.obj["metadata"]["annotations"] = {"sockspan.io/service-name": "checkout-v2"}
        kube.api.set("pods", web.obj)
        request_until_named(ss, d, srv, "checkout-v2")
        kube.api.delete("pods", web.obj)
        request_until_named(ss, d, srv, SERVER_COMM)
    got = names(served_by(ss.spans, srv))
    i, j = got.index("checkout-v2"), got.index(SERVER_COMM)
    assert got == ["shop.checkout"] * i + ["checkout-v2"] * (j - i) + [SERVER_COMM] * (len(got) - j), got
    assert "k8s.pod.name" not in served_by(ss.spans, srv)[-1]["tags"], "a deleted pod's tags stay behind"


def test_a_pod_made_after_the_last_walk_is_named_by_the_next(kube, sockspan, server, driver):
    """Cgroups are named from an index a walk of the cgroup tree builds (at the first
    span). A pod whose cgroup is made right after it is missing there: its spans keep the
    process name until a walk finds it, at most a second after the last one, and are named
    from then on. Two walks in all, however many spans missed the index. (Whole-node mode
    would name other processes' cgroups too: --pid keeps the count to these two servers'.)"""
    srv, d, web = checkout_pod(kube, server, driver)
    late_srv, late_d = server("127.0.0.3"), driver()
    mport = free_port()
    args = ["--kubeconfig", kube.kubeconfig, "--node-name", NODE, "-p", srv.pid, "-p", late_srv.pid,
            "--metrics", f"127.0.0.1:{mport}"]
    with sockspan(*args) as ss:
        first_requests(ss, d, srv)
        wait_until(lambda: names(served_by(spans_so_far(ss), srv)) == ["shop.checkout"], STEP_TIMEOUT,
                   "the first pod's span, named: the index is built")
        late = kube.pod("shop", "cart", "Deployment", ip="127.0.0.3")
        kube.api.set("pods", late.obj)
        late.enter(late_srv.pid)
        late_d.connect("127.0.0.3", late_srv.port)
        request_until_named(ss, late_d, late_srv, "shop.cart")
        walks = scrape(mport)["sockspan_cgroup_walks_seconds_count"]
    got = names(served_by(ss.spans, late_srv))
    assert got == [SERVER_COMM] * got.index("shop.cart") + ["shop.cart"] * (len(got) - got.index("shop.cart")), got
    assert walks == 2


def test_a_410_lists_again(kube, sockspan, server, driver):
    """The API forgets its history (410 Gone): sockspan lists again, and sees a change
    made meanwhile that no watch event told."""
    srv, d, web = checkout_pod(kube, server, driver)
    mport = free_port()
    with sockspan(*kube.args(), "--metrics", f"127.0.0.1:{mport}") as ss:
        first_requests(ss, d, srv)
        lists = kube.api.count("pods", "list")
        web.obj["metadata"]["annotations"] = {"sockspan.io/service-name": "relisted"}
        kube.api.set_quietly("pods", web.obj)
        kube.api.gone()
        request_until_named(ss, d, srv, "relisted")
        m = scrape(mport)
    assert kube.api.count("pods", "list") > lists
    assert m["sockspan_k8s_pods"] == 1
    assert m["sockspan_k8s_relists_total"] >= 1
    assert m["sockspan_k8s_watch_restarts_total"] >= 1
    assert m["sockspan_k8s_api_errors_total"] == 0
    expect_renamed(served_by(ss.spans, srv), "shop.checkout", "relisted")


def test_a_cut_watch_is_resumed(kube, sockspan, server, driver):
    """The API drops the watch connection: sockspan watches again from where it was
    (no new list) and gets the events made since."""
    srv, d, web = checkout_pod(kube, server, driver)
    mport = free_port()
    with sockspan(*kube.args(), "--metrics", f"127.0.0.1:{mport}") as ss:
        first_requests(ss, d, srv)
        lists, watches = kube.api.count("pods", "list"), kube.api.count("pods", "watch")
        kube.api.drop()
        kube.api.bookmark()
        web.obj["metadata"]["annotations"] = {"sockspan.io/service-name": "resumed"}
        kube.api.set("pods", web.obj)
        request_until_named(ss, d, srv, "resumed")
        # The Services' watch is resumed in a thread of its own: it may come after the pods'.
        wait_until(lambda: scrape(mport)["sockspan_k8s_watch_restarts_total"] >= 2, STEP_TIMEOUT,
                   "the pods' and the Services' watches to be resumed")
        m = scrape(mport)
    assert kube.api.count("pods", "list") == lists, "a cut watch is resumed, not listed again"
    assert m["sockspan_k8s_relists_total"] == 0
    assert kube.api.count("pods", "watch") > watches
    assert kube.api.unauthorized == 0
    expect_renamed(served_by(ss.spans, srv), "shop.checkout", "resumed")


def test_service_name_template(kube, sockspan, server, driver):
    srv, d, web = checkout_pod(kube, server, driver, labels={"app.kubernetes.io/name": "web"})
    with sockspan(*kube.args(), "--service-name-template", "{label:app.kubernetes.io/name}.{namespace}") as ss:
        first_requests(ss, d, srv)
    assert names(served_by(ss.spans, srv)) == ["web.shop"]


def test_service_name_option_wins(kube, sockspan, server, driver):
    srv, d, web = checkout_pod(kube, server, driver)
    with sockspan(*kube.args(), "-s", "fixed") as ss:
        first_requests(ss, d, srv)
    [s] = served_by(ss.spans, srv)
    assert s["localEndpoint"]["serviceName"] == "fixed"
    assert tags_of(s)["k8s.deployment.name"] == "checkout"


def test_without_an_api_server(kube, sockspan, server, driver):
    """No kubeconfig and not in a pod: spans of a pod's process keep the process name (no
    guess), carry what the cgroup says, and one line on stderr says why."""
    srv, d, web = checkout_pod(kube, server, driver)
    with sockspan("--cgroup", kube.root) as ss:
        d.connect("127.0.0.2", srv.port)
        d.requests([("GET", "/status/200"), ("GET", "/status/200")])
    spans = served_by(ss.spans, srv)
    assert names(spans) == [SERVER_COMM] * 2
    assert tags_of(spans[0]) == {"k8s.pod.uid": web.uid, "container.id": web.cid}
    said = [line for line in ss.stderr().splitlines() if "no API server" in line]
    assert len(said) == 1 and web.uid in said[0], ss.stderr()


def test_api_server_unreachable(kube, sockspan, server, driver):
    """The API does not answer: tracing goes on with process names, said once."""
    srv, d, _ = checkout_pod(kube, server, driver)
    kube.api.close()
    with sockspan(*kube.args()) as ss:
        first_requests(ss, d, srv, 3, synced="until it answers")
    assert names(served_by(ss.spans, srv)) == [SERVER_COMM] * 3
    said = [line for line in ss.stderr().splitlines() if "until it answers" in line]
    assert len(said) == 1, ss.stderr()


def test_in_cluster_with_a_rotated_token(kube, sockspan, server, driver, tmp_path, monkeypatch):
    """In a pod: the API from KUBERNETES_SERVICE_HOST/PORT, the service account's token and
    CA from its folder (SOCKSPAN_K8S_SA_DIR stands for /var/run/secrets/...). The kubelet
    rotates the token: once the API takes only the new one, sockspan reads it again."""
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "ca.crt").write_bytes(Path(kube.api.ca_file).read_bytes())
    (sa / "token").write_text(kube.api.token)
    (sa / "namespace").write_text("tracing")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(kube.api.port))
    monkeypatch.setenv("SOCKSPAN_K8S_SA_DIR", str(sa))
    srv, d, web = checkout_pod(kube, server, driver)
    with sockspan("--node-name", NODE, "--cgroup", kube.root) as ss:
        first_requests(ss, d, srv)
        rotated = sa / "token.new"
        rotated.write_text("rotated-token")
        rotated.replace(sa / "token")  # as the kubelet does: a new file, renamed in place
        kube.api.token = "rotated-token"
        kube.api.drop()
        web.obj["metadata"]["annotations"] = {"sockspan.io/service-name": "after-rotation"}
        kube.api.set("pods", web.obj)
        request_until_named(ss, d, srv, "after-rotation")
    expect_renamed(served_by(ss.spans, srv), "shop.checkout", "after-rotation")
