"""deploy/kubernetes as shipped: the manifests are checked offline (kustomize build, then
the fields least privilege rests on), and sockspan runs with exactly the
capabilities the DaemonSet lists (setpriv: root's uid, every other capability
out of the bounding set, tracefs already mounted as the hostPath gives it):
it traces a pod's server and, holding no capability any more, names the pod
from its cgroup among thousands. The image itself is not built here (no
registry to pull debian from)."""
import shutil
import subprocess
from pathlib import Path

import yaml

from itlib.apps import SERVER_COMM
from itlib.collector import scrape
from itlib.privilege import CappedSockspan, assert_every_thread_holds
from itlib.procs import STEP_TIMEOUT, free_port, log, wait_until

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def manifests():
    docs = []
    for f in sorted(DEPLOY.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"] != "Kustomization"}


def daemonset():
    return manifests()[("DaemonSet", "sockspan")]


def container():
    [c] = daemonset()["spec"]["template"]["spec"]["containers"]
    return c


def capabilities():
    return container()["securityContext"]["capabilities"]["add"]


def test_kustomize_builds_every_manifest():
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is missing: install the Debian package kubectl (make deps)"
    out = subprocess.run([kubectl, "kustomize", str(DEPLOY)], check=True, capture_output=True, text=True).stdout
    built = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(out)}
    assert built == set(manifests()), "kustomization.yaml lists every manifest"


def test_least_privilege_and_wiring():
    m = manifests()
    ds = daemonset()
    pod = ds["spec"]["template"]["spec"]
    c = container()
    sc = c["securityContext"]
    assert ("Namespace", "tracing") in m
    assert ds["metadata"]["namespace"] == "tracing"
    assert pod["hostPID"] is True
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsUser"] == 0
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert sorted(capabilities()) == ["BPF", "PERFMON", "SETPCAP", "SYS_RESOURCE"]
    assert {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in c["env"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    # The probes reach the metrics server the args start, on the declared port.
    [port] = c["ports"]
    assert c["args"][c["args"].index("--metrics") + 1] == f":{port['containerPort']}"
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    res = c["resources"]
    assert res["requests"]["memory"] and res["limits"]["memory"]
    # Host paths are read only; the one writable place is an emptyDir.
    mounts = {v["name"]: v for v in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for name, v in volumes.items():
        assert ("hostPath" in v) == mounts[name].get("readOnly", False), name
    assert {mounts[n]["mountPath"] for n in volumes if "hostPath" in volumes[n]} == {
        "/sys/kernel/tracing", "/sys/kernel/btf", "/sys/fs/cgroup"}


def test_spans_go_to_the_configured_collector():
    """The ConfigMap feeds the DaemonSet's environment; its default URL is the try-out
    Zipkin's Service, on its port."""
    m = manifests()
    assert {"configMapRef": {"name": "sockspan"}} in container()["envFrom"]
    url = m[("ConfigMap", "sockspan")]["data"]["SOCKSPAN_ZIPKIN_URL"]
    svc = m[("Service", "zipkin")]
    [port] = svc["spec"]["ports"]
    assert url == f"http://{svc['metadata']['name']}.{svc['metadata']['namespace']}:{port['port']}/api/v2/spans"
    zipkin = m[("Deployment", "zipkin")]["spec"]["template"]
    assert svc["spec"]["selector"] == zipkin["metadata"]["labels"]
    [zc] = zipkin["spec"]["containers"]
    assert {p["name"] for p in zc["ports"]} == {port["targetPort"]}


def test_rbac_reads_pods_and_services_only():
    m = manifests()
    sa = m[("ServiceAccount", "sockspan")]
    assert daemonset()["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    role = m[("ClusterRole", "sockspan")]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]}]
    binding = m[("ClusterRoleBinding", "sockspan")]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "sockspan"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sockspan", "namespace": "tracing"}]


def traced_pod_span(kube, server, driver, tmp_path, caps, args=(), running=lambda ss: None):
    """The span of a request to a server in a pod, sockspan tracing the pods' root;
    running(ss) is called before sockspan stops."""
    srv, d = server("127.0.0.2"), driver()
    web = kube.pod("shop", "checkout", "Deployment", ip="127.0.0.2")
    web.enter(srv.pid)
    with CappedSockspan(caps, ["--cgroup", kube.root, *args], tmp_path) as ss:
        d.connect("127.0.0.2", srv.port)
        d.requests([("GET", "/status/200")])
        running(ss)
    [s] = ss.spans
    return s, web


def test_runs_with_exactly_the_manifest_capabilities(kube, server, driver, tmp_path):
    s, web = traced_pod_span(kube, server, driver, tmp_path, capabilities())
    assert (s["kind"], s["name"], s["localEndpoint"]["serviceName"]) == ("SERVER", "get /status/{id}", SERVER_COMM)
    assert s["tags"]["k8s.pod.uid"] == web.uid, "the pod is named from its cgroup"


OTHER_CGROUPS = 3000


def test_pods_are_named_with_no_capability_left(kube, server, driver, tmp_path):
    """Once attached, every thread holds no capability (the manifest's are all dropped),
    and the pod is still named from its cgroup, among 3000 others: its id was found by
    one walk of the cgroup v2 tree, which left none out. The walk's time is logged."""
    kube.other_cgroups(OTHER_CGROUPS)
    mport, seen = free_port(), {}

    def running(ss):
        assert_every_thread_holds(ss.proc.pid, 0, 0)
        wait_until(lambda: scrape(mport)["sockspan_cgroup_walks_seconds_count"] == 1, STEP_TIMEOUT,
                   "the span's cgroup to be named")
        seen["m"] = scrape(mport)

    s, web = traced_pod_span(kube, server, driver, tmp_path, capabilities(),
                             ["--metrics", f"127.0.0.1:{mport}"], running)
    assert (s["tags"]["k8s.pod.uid"], s["tags"]["container.id"]) == (web.uid, web.cid)
    m = seen["m"]
    # At least the mount's root, the test's root, "others" and its children, kubepods,
    # burstable, the pod and its container; the machine's other cgroups too.
    assert m["sockspan_cgroups_indexed"] >= OTHER_CGROUPS + 7
    assert (m["sockspan_cgroups_unindexed"], m["sockspan_cgroup_walks_seconds_count"]) == (0, 1)
    log(f"one walk of {m['sockspan_cgroups_indexed']:.0f} cgroups: "
        f"{m['sockspan_cgroup_walks_seconds_sum'] * 1000:.2f} ms")
