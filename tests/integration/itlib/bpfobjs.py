"""sockspan's BPF objects as the kernel holds them: a process's maps by the fds
it holds (/proc/PID/fdinfo), their contents and the programs left loaded (bpftool)."""
import json
import os
import shutil
import subprocess

from .procs import STEP_TIMEOUT

# Program names of bpf/sockspan.bpf.c as the kernel keeps them (15 characters at most).
PROG_PREFIXES = ("sys_enter_", "sys_exit_")
PROG_NAMES = {"exit_emit", "handle_exit", "process_exit", "sock_send", "sock_recv", "sock_emit",
              "sock_state", "sock_destroy"}


def bpftool(*args):
    """bpftool's JSON answer; fails (never skips) when bpftool is missing."""
    exe = shutil.which("bpftool")
    if not exe:
        raise AssertionError("bpftool is missing: `make deps` installs it")
    out = subprocess.run([exe, "-j", *args], capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if out.returncode != 0:
        raise AssertionError(f"bpftool {' '.join(args)} failed: {out.stderr}")
    return json.loads(out.stdout)


def _held_ids(pid, kind):
    """Ids of the BPF objects of that kind ("map_id", "prog_id") pid holds fds of."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith(kind + ":"))
        except OSError:
            continue
    return ids


def _held_map(pid, name):
    """The id of the map called name among those pid holds."""
    for map_id in _held_ids(pid, "map_id"):
        if bpftool("map", "show", "id", str(map_id)).get("name") == name:
            return str(map_id)
    raise AssertionError(f"process {pid} holds no BPF map called {name}")


def map_keys(pid, name):
    """The keys of the map called name among those pid holds."""
    return sorted(e["formatted"]["key"] for e in bpftool("map", "dump", "id", _held_map(pid, name)))


def percpu_sum(pid, name, index):
    """The value at index of the per-CPU array called name among those pid holds, summed
    over the CPUs."""
    key = [str(b) for b in index.to_bytes(4, "little")]
    got = bpftool("map", "lookup", "id", _held_map(pid, name), "key", *key)
    return sum(v["value"] for v in got["formatted"]["values"])


def orphan_programs():
    """sockspan's programs that are loaded but held by no process (left attached)."""
    held = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            held |= _held_ids(entry, "prog_id")
    return [p for p in bpftool("prog", "show")
            if (p.get("name", "").startswith(PROG_PREFIXES) or p.get("name") in PROG_NAMES)
            and p["id"] not in held]
