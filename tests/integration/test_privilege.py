"""Capabilities: once attached, sockspan and every one of its threads (exporter, metrics
server, Kubernetes watchers) hold no capability in their effective, permitted and bounding
sets, none inheritable or ambient, with no_new_privs; spans keep coming
(--pid, and a process started after the drop in whole-node mode), /metrics reads the
kernel's maps, the exporter posts, and under the DaemonSet's set a pod made after the
drop is traced and named from its cgroup. When it cannot start, it names the capability
missing. (The kernel here is 6.18: maps need no capability through open fds, so CAP_BPF
goes too; before 6.5 sockspan would keep it.)"""
import pytest

from itlib.apps import CLIENT_COMM, SERVER_COMM
from itlib.collector import collector, scrape  # noqa: F401 (fixture)
from itlib.kube import NODE
from itlib.privilege import CAP, CappedSockspan, assert_every_thread_holds, bounding_set, capped, mask
from itlib.procs import STEP_TIMEOUT, free_port, now_us, wait_until
from itlib.sockspan import run_cli
from itlib.spans import check, client_row, for_port, of_kind, server_row
from test_deploy import capabilities

LO = "127.0.0.1"
KEPT = 0
DROPPED = "sockspan: capabilities after attach: none; no_new_privs set"


def exchange(d, srv, path="/status/200"):
    lport = d.connect(srv.host, srv.port)
    d.requests([("GET", path)])
    return lport


def test_as_root_every_thread_keeps_no_capability(sockspan, py_server, driver, collector):
    """Run as root (every capability): main, the exporter and libmicrohttpd's thread keep
    none; a request made after the drop is traced by --pid, exported,
    and /metrics still reads the kernel's counters."""
    c, d, mport = collector(), driver(), free_port()
    with sockspan("-p", py_server.pid, "--metrics", f"{LO}:{mport}", "--zipkin", c.url,
                  "--batch-interval", "0.2") as ss:
        threads = assert_every_thread_holds(ss.proc.pid, KEPT, KEPT)
        assert DROPPED in ss.stderr().splitlines()
        t0 = now_us()
        lport = exchange(d, py_server)
        t1 = now_us()
        wait_until(lambda: len(c.spans()) == 1, STEP_TIMEOUT, "the exporter thread to post the span")
        assert scrape(mport)["sockspan_kernel_events_total"] > 0, "the counters map read without capabilities"
    assert len(threads) == 3 and sum(t.comm.startswith("MHD") for t in threads.values()) == 1, threads
    row = server_row("get /status/{id}", "/status/200", 200, SERVER_COMM, py_server.pid, (LO, py_server.port),
                     (LO, lport))
    check(ss.spans, [row], (t0, t1))
    assert [s["id"] for s in c.spans()] == [s["id"] for s in ss.spans]


def test_whole_node_traces_a_process_started_after_the_drop(sockspan, server, driver):
    """Whole-node mode: a server and a client that did not exist when sockspan attached
    and dropped its capabilities are traced at both ends."""
    with sockspan() as ss:
        assert_every_thread_holds(ss.proc.pid, KEPT, KEPT)
        srv, d = server(), driver()
        t0 = now_us()
        lport = exchange(d, srv, "/status/404")
        t1 = now_us()
    mine = for_port(ss.spans, srv.port)
    ends = ((LO, srv.port), (LO, lport))
    check(of_kind(mine, "SERVER"), [server_row("get /status/{id}", "/status/404", 404, SERVER_COMM, srv.pid, *ends)],
          (t0, t1))
    check(of_kind(mine, "CLIENT"), [client_row("get /status/{id}", "/status/404", 404, CLIENT_COMM, d.pid, *ends)],
          (t0, t1))


def test_daemonset_set_a_pod_made_after_the_drop_is_traced_and_named(kube, server, driver, tmp_path):
    """With exactly the DaemonSet's capabilities and a read-only root: after the drop,
    a pod whose cgroups appear later reaches the kernel's filter (a map update through an
    open fd), is named from its cgroup (found by walking the cgroup tree, no capability) and
    from the API (the watcher threads, started after the drop)."""
    mport = free_port()
    with CappedSockspan(capabilities(), [*kube.args(), "--metrics", f"{LO}:{mport}"], tmp_path) as ss:
        assert_every_thread_holds(ss.proc.pid, KEPT, KEPT)
        srv, d = server("127.0.0.2"), driver()
        web = kube.pod("shop", "checkout", "Deployment", ip="127.0.0.2")
        web.enter(srv.pid)
        kube.api.set("pods", web.obj)
        # The root of --cgroup, kubepods, burstable, the pod and its container.
        wait_until(lambda: scrape(mport)["sockspan_traced_cgroups"] == 5, STEP_TIMEOUT,
                   "the new pod's cgroups in the kernel's filter")
        wait_until(lambda: scrape(mport)["sockspan_k8s_pods"] == 1, STEP_TIMEOUT, "the watch to bring the pod")
        exchange(d, srv)
    [s] = ss.spans
    assert (s["kind"], s["name"], s["localEndpoint"]["serviceName"]) == ("SERVER", "get /status/{id}", "shop.checkout")
    assert (s["tags"]["k8s.pod.uid"], s["tags"]["container.id"], s["tags"]["k8s.node.name"]) == (web.uid, web.cid, NODE)


def test_without_setpcap_the_bounding_set_stays_out_of_reach(kube, server, driver, tmp_path):
    """Dropping from the bounding set takes CAP_SETPCAP: without it the bounding set stays
    as given (said on stderr), while effective and permitted are empty and no_new_privs keeps the rest out of reach."""
    caps = [c for c in capabilities() if c != "SETPCAP"]
    given = mask(caps) & bounding_set()
    with CappedSockspan(caps, ["--cgroup", kube.root], tmp_path) as ss:
        assert_every_thread_holds(ss.proc.pid, KEPT, given)
        note = [line for line in ss.stderr().splitlines() if "without CAP_SETPCAP" in line]
    left = sorted((n for n in CAP if (given & ~KEPT) >> CAP[n] & 1), key=CAP.get)
    assert note == ["sockspan: without CAP_SETPCAP the bounding set keeps "
                    f"{', '.join('CAP_' + n for n in left)} (out of reach: no_new_privs)"]


@pytest.mark.parametrize("caps,says", [
    (["BPF"], "missing CAP_PERFMON (have CAP_BPF)"),
    (["PERFMON"], "missing CAP_BPF (have CAP_PERFMON)"),
    (["SYS_RESOURCE"], "missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"),
], ids=["bpf-only", "perfmon-only", "neither"])
def test_a_missing_capability_is_named(caps, says):
    rc, out, err = run_cli("--duration", "1", wrap=capped(caps))
    assert (rc, out) == (1, ""), err
    assert err.splitlines() == [f"sockspan: cannot load the eBPF programs: {says}"]


UNMOUNTED_TRACEFS = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                     'umount -l /sys/kernel/tracing && ! grep -q " tracefs " /proc/mounts && exec "$@"', "sh"]


def test_unmounted_tracefs_without_sys_admin_is_named():
    """In a mount namespace where tracefs is not mounted, the DaemonSet's set (no
    CAP_SYS_ADMIN) cannot mount it for the syscall tracepoints: sockspan says so and
    which capability it lacks."""
    rc, out, err = run_cli("--hooks", "syscalls", "--duration", "1",
                           wrap=[*UNMOUNTED_TRACEFS, *capped(capabilities())])
    assert (rc, out) == (1, ""), err
    assert err.splitlines() == [
        "sockspan: tracefs is not mounted at /sys/kernel/tracing and mounting it needs CAP_SYS_ADMIN, which "
        "sockspan does not have: mount it first (mount -t tracefs tracefs /sys/kernel/tracing; in a container, "
        "mount the host's /sys/kernel/tracing)"]


def test_socket_hooks_need_no_tracefs():
    """The socket hooks and TCP's state changes are BTF tracepoints: with the DaemonSet's
    set and no tracefs, sockspan starts and runs (it never tries to mount it)."""
    rc, out, err = run_cli("--hooks", "socket", "--duration", "1",
                           wrap=[*UNMOUNTED_TRACEFS, *capped(capabilities())])
    assert rc == 0, err
    assert "ready: tracing every process on this node (socket hooks)" in err

