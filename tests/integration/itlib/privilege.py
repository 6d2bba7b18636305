"""sockspan under a chosen capability set, and what each of its threads holds.

    with CappedSockspan(["BPF", "PERFMON"], args, tmp_path) as ss: ...  # root's uid, these only
    run_cli(*args, wrap=capped(["BPF"]))    # a one-shot run with these only
    thread_caps(pid) -> {tid: Caps}        # every thread's sets, from /proc/PID/task/TID/status
    assert_every_thread_holds(pid, kept, bounding)  # and exactly these, no_new_privs
"""
from dataclasses import dataclass
from pathlib import Path

from .sockspan import Sockspan

# The numbers linux/capability.h gives the capabilities these tests name.
CAP = {"DAC_READ_SEARCH": 2, "SETPCAP": 8, "SYS_ADMIN": 21, "SYS_RESOURCE": 24, "PERFMON": 38, "BPF": 39}


def mask(names):
    return sum(1 << CAP[n] for n in names)


def capped(caps):
    """setpriv's argv prefix: root's uid with only caps (none inheritable, none else bounded)."""
    bounding = ",".join(["-all"] + [f"+{c.lower()}" for c in caps])
    return ["setpriv", "--inh-caps=-all", f"--bounding-set={bounding}", "--"]


def bounding_set():
    """This process's bounding set: setpriv cannot add what it lacks (containers often drop some)."""
    return _status(Path("/proc/self/status"))["CapBnd"]


@dataclass(frozen=True)
class Caps:
    comm: str
    eff: int
    prm: int
    bnd: int
    inh: int
    amb: int
    no_new_privs: int


def _status(path):
    fields = dict(line.split(":\t", 1) for line in path.read_text().splitlines() if ":\t" in line)
    return {k: int(v, 16) if k.startswith("Cap") else v.strip() for k, v in fields.items()}


def thread_caps(pid):
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        st = _status(task / "status")
        out[int(task.name)] = Caps((task / "comm").read_text().strip(), st["CapEff"], st["CapPrm"], st["CapBnd"],
                                   st["CapInh"], st["CapAmb"], int(st["NoNewPrivs"]))
    return out


def assert_every_thread_holds(pid, kept, bounding):
    """Every thread of pid: kept effective and permitted, bounding, nothing inheritable or
    ambient, no_new_privs. Returns thread_caps(pid)."""
    threads = thread_caps(pid)
    assert {(c.eff, c.prm, c.bnd, c.inh, c.amb, c.no_new_privs) for c in threads.values()} == {
        (kept, kept, bounding, 0, 0, 1)}, threads
    return threads


# In a mount namespace of its own: the root filesystem and tracefs read only
# (readOnlyRootFilesystem, the readOnly hostPath), the test's directory (for
# -o) writable as the pod's emptyDir would be.
READ_ONLY = ('mount --bind "$0" "$0" && mount -o remount,bind,ro / && '
             'mount -o remount,bind,ro /sys/kernel/tracing && exec "$@"')


class CappedSockspan(Sockspan):
    """sockspan as root with only these capabilities, its root filesystem read only, as the
    DaemonSet runs it. Its pid is sockspan's (unshare, sh and setpriv exec it)."""

    def __init__(self, caps, args, tmp_dir):
        super().__init__(args, tmp_dir)
        self.caps, self.tmp_dir = caps, tmp_dir

    def argv(self):
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", READ_ONLY, str(self.tmp_dir),
                *capped(self.caps), *super().argv()]
