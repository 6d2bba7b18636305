"""Pods: network namespaces on a private host bridge, so each test service has its own address.

    net = PodNet(["drv", "a", "b", "r"])     # bridge + one namespace per label
    net["a"].ip                               # 10.77.X.11 (X: a /24 nobody on the host uses)
    p = net["a"].python_app("chain_http.py", "--host", net["a"].ip)   # an itlib.procs.Proc
    p.pid                                     # the app's own pid (ip netns exec execs it)
    net.close()                               # every process in the pods, the pods, the bridge

Names carry this process's pid and a counter (bridge `ss<pid>x<k>br`, host-side veths
`ss<pid>x<k>v<i>`, namespaces `ss<pid>x<k>-<label>`), so sessions never collide; a new
PodNet first removes what a killed earlier session left (names whose pid is gone). The
host side gets .1 on the bridge, pod i gets .10+i; each pod has lo up and eth0. Traffic
between pods is bridged on this host only; there is no route out.
"""
import ipaddress
import itertools
import os
import re
import signal
import socket
import subprocess

from .procs import APPS, PYTHON, STEP_TIMEOUT, Proc, log, wait_until

IP = "/usr/sbin/ip"
OUR_NAME = re.compile(r"ss(\d+)x(\d+)(br|v\d+|-[a-z0-9]+)")
POOL = ipaddress.ip_network("10.77.0.0/16")
_counter = itertools.count(1)


def ip(*args, check=True):
    """Run `ip ARGS`; returns stdout. A failure fails the test (check=False: returns None)."""
    p = subprocess.run([IP, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=STEP_TIMEOUT)
    if p.returncode != 0:
        if check:
            raise AssertionError(f"ip {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr.strip()}")
        return None
    return p.stdout


def namespaces():
    """Names of the named network namespaces (`ip netns list` prints 'NAME (id: N)')."""
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def links():
    """Names of the host's network interfaces (veth names lose their '@peer' suffix)."""
    out = ip("-o", "link", "show")
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


def pids_in(ns):
    out = ip("netns", "pids", ns, check=False)
    return [int(p) for p in (out or "").split()]


def kill_all_in(ns):
    """SIGKILL each process still inside namespace ns (ours: only our tests start them), by pid."""
    for pid in pids_in(ns):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not pids_in(ns), STEP_TIMEOUT, f"the processes in netns {ns} to exit")


def _ours_and_dead(name):
    m = OUR_NAME.fullmatch(name)
    return bool(m) and not os.path.exists(f"/proc/{m.group(1)}")


def cleanup_leftovers():
    """Remove namespaces and links a killed earlier session left behind; returns their names."""
    gone = []
    for ns in namespaces():
        if _ours_and_dead(ns):
            kill_all_in(ns)
            ip("netns", "del", ns)
            gone.append(ns)
    for link in links():  # veths went with their namespace; bridges stay
        if _ours_and_dead(link):
            ip("link", "del", link, check=False)
            gone.append(link)
    if gone:
        log(f"removed leftovers of an earlier run: {gone}")
    return gone


def free_subnet():
    """A /24 of 10.77.0.0/16 that no address or route of this host overlaps."""
    used = []
    for line in ip("-o", "-4", "addr", "show").splitlines():
        used.append(ipaddress.ip_interface(line.split()[3]).network)
    for line in ip("-4", "route", "show").splitlines():
        for word in line.split()[:2]:  # "DEST dev ..." or "TYPE DEST ..." (unreachable, blackhole)
            try:
                used.append(ipaddress.ip_network(word, strict=False))
                break
            except ValueError:
                continue
    for net in POOL.subnets(new_prefix=24):
        if not any(net.overlaps(u) for u in used):
            return net
    raise AssertionError(f"no free /24 left in {POOL} on this host")


def reachable(addr):
    """True when addr answers on TCP (a refused connection is an answer: the pod is up)."""
    try:
        with socket.create_connection((addr, 9), timeout=1):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


class Pod:
    """One network namespace: .label, .ns (its name), .ip; starts processes inside it."""

    def __init__(self, label, ns, addr):
        self.label, self.ns, self.ip = label, ns, addr

    def start(self, argv, name, stdin=True):
        """A Proc running argv inside this pod. `ip netns exec` execs argv, so the pid stays."""
        return Proc([IP, "netns", "exec", self.ns, *argv], f"{name}@{self.label}", stdin=stdin)

    def python_app(self, script, *args, name=None):
        """One of apps/*.py with Debian's python, inside this pod."""
        return self.start([PYTHON, APPS / script, *args], name or script)

    def __repr__(self):
        return f"Pod({self.label} {self.ns} {self.ip})"


class PodNet:
    """A bridge on the host and one pod per label; see the module doc. Use close() (or `with`)."""

    def __init__(self, labels):
        cleanup_leftovers()
        prefix = f"ss{os.getpid()}x{next(_counter)}"
        self.bridge = f"{prefix}br"
        self.pods = {}
        self._created_ns = []
        self._veths = []
        self._bridge_made = False
        try:
            subnet = free_subnet()
            hosts = list(subnet.hosts())
            self.gateway = str(hosts[0])
            ip("link", "add", self.bridge, "type", "bridge")
            self._bridge_made = True
            ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for i, label in enumerate(labels):
                self.pods[label] = self._add_pod(f"{prefix}-{label}", f"{prefix}v{i}", label,
                                                 str(hosts[9 + i]))
            for pod in self.pods.values():
                wait_until(lambda: reachable(pod.ip), STEP_TIMEOUT, f"{pod} to be reachable from the host")
        except BaseException:
            self.close()
            raise
        log(f"pods on {self.bridge} {subnet}: {list(self.pods.values())}")

    def _add_pod(self, ns, veth, label, addr):
        ip("netns", "add", ns)
        self._created_ns.append(ns)
        self._veths.append(veth)
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("link", "set", veth, "master", self.bridge, "up")
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        return Pod(label, ns, addr)

    def __getitem__(self, label):
        return self.pods[label]

    def close(self):
        """Kill what still runs in the pods (by pid), delete them and the bridge; idempotent."""
        for ns in reversed(self._created_ns):
            if ns in namespaces():
                kill_all_in(ns)
                ip("netns", "del", ns)
        self._created_ns = []
        if self._bridge_made and self.bridge in links():
            ip("link", "del", self.bridge)
        self._bridge_made = False
        veths, self._veths = self._veths, []
        # A veth goes with its namespace, but the kernel frees it asynchronously.
        wait_until(lambda: not set(veths) & set(links()), STEP_TIMEOUT, f"veths {veths} to disappear")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
