"""The reader's priority (--nice): the thread that reads the ring buffer and parses runs at
nice 19 while it keeps up, so on a busy node it takes the cores the traced processes leave
idle; once a poll reads a quarter of the buffer it goes back to sockspan's own priority,
so that nothing is lost, and down again after a quiet wait. Raising it again needs
RLIMIT_NICE (raised before the capabilities are dropped, with CAP_SYS_RESOURCE) or, when
asked for with --nice, CAP_SYS_NICE kept. Other threads keep sockspan's priority."""
import os
import signal
from pathlib import Path

from itlib.collector import scrape
from itlib.privilege import CAP, bounding_set
from itlib.procs import STEP_TIMEOUT, free_port, wait_until

LO = "127.0.0.1"
HAS_SYS_RESOURCE = bool(bounding_set() >> CAP["SYS_RESOURCE"] & 1)
CHUNK = 8000


def nice_of(pid, tid):
    # Field 19 of stat, counted after the command name (which may hold spaces).
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def thread_nices(pid):
    return {int(t): nice_of(pid, t) for t in os.listdir(f"/proc/{pid}/task")}


def pair(peer):
    port = peer.listen()["port"]
    c = peer.connect(port=port)["fd"]
    return c, peer.accept()["fd"]


def test_the_reader_boosts_to_catch_up_and_lowers_again(sockspan, peers):
    """--nice 19 with a 1 MiB buffer: the reader (main) at 19, the metrics thread at 0.
    Stopped while ~780 KiB of events arrive, it reads over a quarter of the buffer at
    once when it resumes: one boost (counted, at nice 0), no event lost; after a quiet
    poll it is at 19 again."""
    peer, mport = peers(), free_port()
    c, s = pair(peer)
    with sockspan("--pid", peer.pid, "--nice", "19", "--ringbuf-mb", "1", "--metrics", f"{LO}:{mport}") as ss:
        pid = ss.proc.pid
        wait_until(lambda: nice_of(pid, pid) == 19, STEP_TIMEOUT, "the reader at nice 19")
        others = {t: n for t, n in thread_nices(pid).items() if t != pid}
        assert others and set(others.values()) == {0}, others
        kept = "CAP_SYS_NICE" if not HAS_SYS_RESOURCE else "none"
        assert f"sockspan: capabilities after attach: {kept}; no_new_privs set" in ss.stderr().splitlines()
        assert scrape(mport)["sockspan_reader_boosts_total"] == 0
        os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(48):
                peer.send(fd=c, data="x" * CHUNK)
                assert len(peer.recv(fd=s, n=CHUNK)["data"]) == CHUNK
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_until(lambda: scrape(mport)["sockspan_reader_boosts_total"] == 1, STEP_TIMEOUT,
                   "the reader to go back to its own priority")
        wait_until(lambda: nice_of(pid, pid) == 19, STEP_TIMEOUT, "the reader back at nice 19")
        m = scrape(mport)
        assert m["sockspan_ringbuf_lost_events_total"] == 0
        assert m["sockspan_kernel_events_total"] >= 96
    assert "reader: 1 catch-ups at normal priority" in ss.stderr()


def test_nice_0_keeps_every_thread_at_its_priority_and_no_capability(sockspan, peers):
    peer = peers()
    with sockspan("--pid", peer.pid, "--nice", "0") as ss:
        assert set(thread_nices(ss.proc.pid).values()) == {0}
        assert "sockspan: capabilities after attach: none; no_new_privs set" in ss.stderr().splitlines()
        assert "parsing at normal priority" not in ss.stderr()


def test_by_default_no_capability_is_kept_for_it(sockspan, peers):
    """Without --nice, CAP_SYS_NICE is never kept: where RLIMIT_NICE cannot be raised
    (no CAP_SYS_RESOURCE, as in some containers) the reader stays at its priority and
    says why; elsewhere it goes to 19."""
    peer = peers()
    with sockspan("--pid", peer.pid) as ss:
        pid = ss.proc.pid
        lines = ss.stderr().splitlines()
        assert "sockspan: capabilities after attach: none; no_new_privs set" in lines
        if HAS_SYS_RESOURCE:
            wait_until(lambda: nice_of(pid, pid) == 19, STEP_TIMEOUT, "the reader at nice 19")
        else:
            assert ("sockspan: parsing at normal priority: raising RLIMIT_NICE needs CAP_SYS_RESOURCE "
                    "(or --nice, to keep CAP_SYS_NICE)") in lines
            assert nice_of(pid, pid) == 0
