"""Kubernetes without Kubernetes: pods made of real processes moved into
kubelet-like cgroup v2 directories (cgroupfs or systemd layout, under a
private root removed at teardown), their Pod objects served by the fake API
server (apps/fake_kube.py), and the kubeconfig that points sockspan at it.

    env = KubeEnv(tmp_path)
    p = env.pod("shop", "checkout", "Deployment", ip="127.0.0.2", container="app")
    p.enter(server.pid)        # the process is now in the pod's container cgroup
    env.api.set("pods", p.obj) # and the API knows the pod
    env.other_cgroups(3000)    # empty cgroups beside the pods, as on a busy node
    env.close()                # processes moved back, cgroups removed, server stopped
"""
import os
import random
import sys
import uuid
from pathlib import Path

from .procs import STEP_TIMEOUT, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "apps"))
from fake_kube import FakeKube  # noqa: E402

NODE = "worker-1"
SYNCED = f"pods on node {NODE}"  # sockspan's stderr once it listed the pods
HASH = "7d4b9c8f6d"


def cgroup2_root():
    """Where cgroup v2 is mounted (/sys/fs/cgroup on unified hosts, .../unified on hybrid ones)."""
    with open("/proc/mounts") as f:
        for line in f:
            _, where, fstype, *_ = line.split()
            if fstype == "cgroup2":
                return Path(where)
    raise AssertionError("no cgroup2 mount on this machine: pods cannot be made")


def pod_object(ns, workload, kind, ip, container, cid, uid, labels=None, annotations=None):
    """A Pod as the API server returns it, owned by a workload of that kind (None: a bare pod)."""
    labels = dict(labels or {})
    name, owners = workload, []
    if kind == "Deployment":
        labels["pod-template-hash"] = HASH
        name = f"{workload}-{HASH}-{uid[:5]}"
        owners = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{workload}-{HASH}",
                   "uid": str(uuid.uuid4()), "controller": True, "blockOwnerDeletion": True}]
    elif kind:
        name = f"{workload}-0"
        owners = [{"apiVersion": "apps/v1", "kind": kind, "name": workload, "uid": str(uuid.uuid4()),
                   "controller": True, "blockOwnerDeletion": True}]
    meta = {"name": name, "namespace": ns, "uid": uid, "labels": labels, "ownerReferences": owners}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"nodeName": NODE, "containers": [{"name": container, "image": "python:3"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "containerStatuses": [{"name": container, "containerID": f"containerd://{cid}",
                                          "ready": True, "restartCount": 0,
                                          "state": {"running": {"startedAt": "2026-11-30T10:00:00Z"}}}]},
    }


def service_object(ns, name, cluster_ip):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4())},
            "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                     "ports": [{"port": 80, "protocol": "TCP"}]}}


class Pod:
    """A pod's cgroups (the pod's and one container's) and its API object."""

    def __init__(self, env, ns, workload, kind, ip, container, layout, **obj_args):
        self.env = env
        self.uid = str(uuid.uuid4())
        self.cid = os.urandom(32).hex()
        u = self.uid.replace("-", "_")
        if layout == "cgroupfs":
            dirs = ["kubepods", "burstable", f"pod{self.uid}", self.cid]
        else:
            dirs = ["kubepods.slice", "kubepods-burstable.slice", f"kubepods-burstable-pod{u}.slice",
                    f"cri-containerd-{self.cid}.scope"]
        self.dirs = []
        d = env.root
        for name in dirs:
            d = d / name
            if not d.exists():
                d.mkdir()
                self.dirs.append(d)
        self.leaf = d
        self.pids = []
        self.obj = pod_object(ns, workload, kind, ip, container, self.cid, self.uid, **obj_args)

    @property
    def name(self):
        return self.obj["metadata"]["name"]

    def enter(self, pid):
        (self.leaf / "cgroup.procs").write_text(str(pid))
        self.pids.append(pid)

    def close(self):
        for pid in self.pids:
            try:
                (self.env.cg_root / "cgroup.procs").write_text(str(pid))
            except OSError:
                pass  # it exited
        for d in reversed(self.dirs):
            d.rmdir()


class KubeEnv:
    def __init__(self, tmp_path):
        self.cg_root = cgroup2_root()
        self.root = self.cg_root / f"sockspan-it-k8s-{os.getpid()}-{random.randrange(1 << 30)}"
        self.root.mkdir()
        self.pods = []
        self.others = []
        self.api = FakeKube(tmp_path)
        self.kubeconfig = Path(tmp_path) / "kubeconfig"
        self.kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: fake\n  cluster:\n    server: {self.api.url}\n"
            f"    certificate-authority: {self.api.ca_file}\n"
            "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\n"
            "current-context: fake\n"
            f"users:\n- name: tester\n  user:\n    token: {self.api.token}\n")

    def pod(self, ns, workload, kind, ip, container="app", layout="cgroupfs", **obj_args):
        p = Pod(self, ns, workload, kind, ip, container, layout, **obj_args)
        self.pods.append(p)
        return p

    def other_cgroups(self, n):
        """n empty cgroups in a directory of the root's own (no pod's)."""
        d = self.root / "others"
        d.mkdir()
        self.others.append(d)
        for i in range(n):
            (d / f"c{i}").mkdir()
            self.others.append(d / f"c{i}")

    def args(self):
        """sockspan's options: this API server, this node, only the processes in these pods."""
        return ["--kubeconfig", self.kubeconfig, "--node-name", NODE, "--cgroup", self.root]

    def close(self):
        try:
            for p in reversed(self.pods):
                p.close()
            for d in reversed(self.others):
                d.rmdir()
            self.root.rmdir()
        finally:
            self.api.close()


def wait_for_stderr(ss, text, what):
    wait_until(lambda: text in ss.stderr(), STEP_TIMEOUT, what)


def tags_of(span):
    return {k: v for k, v in span.get("tags", {}).items() if k.startswith(("k8s.", "container."))}
