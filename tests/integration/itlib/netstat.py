"""Which TCP connections a process holds, from /proc (for clients that never tell their local port)."""
import os
import socket
import struct
from pathlib import Path

ESTABLISHED = "01"


def _socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed since listdir
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def _addr(hexaddr):
    """/proc/net/tcp{,6} "IP:PORT" (IP in host-order 32-bit words) -> (ip string, port)."""
    ip_hex, port_hex = hexaddr.split(":")
    raw = bytes.fromhex(ip_hex)
    # Each 32-bit word is printed in host byte order.
    words = b"".join(struct.pack("=I", struct.unpack(">I", raw[i:i + 4])[0])
                     for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    ip = socket.inet_ntop(family, words)
    if ip.startswith("::ffff:") and "." in ip:
        ip = ip[len("::ffff:"):]
    return ip, int(port_hex, 16)


def _sockets(pid):
    """(local, remote, state, rx_queue) of each of pid's TCP sockets; addresses as _addr's."""
    inodes = _socket_inodes(pid)
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes:
                yield _addr(f[1]), _addr(f[2]), f[3], int(f[4].split(":")[1], 16)


def established(pid, remote_port):
    """[(local (ip, port), remote (ip, port))] of pid's established TCP sockets to remote_port."""
    return sorted((local, remote) for local, remote, state, _ in _sockets(pid)
                  if state == ESTABLISHED and remote[1] == remote_port)


def unread(pid, remote_port):
    """Bytes waiting in the receive queue of pid's established TCP socket to remote_port
    (None: it has none), so a test knows when a server has read what it was sent."""
    for _, remote, state, rx in _sockets(pid):
        if state == ESTABLISHED and remote[1] == remote_port:
            return rx
    return None
