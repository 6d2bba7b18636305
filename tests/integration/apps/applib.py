"""What every test app process shares: its own comm (so spans name it), and, for
the clients, acting only on JSON commands read from stdin, one JSON reply each."""
import ctypes
import json
import sys

PR_SET_NAME = 15


def set_comm(name):
    """Set /proc/self/comm; threads created afterwards inherit it too."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def serve_http(srv):
    """Print "listening <port>", then serve until SIGINT; returns the exit code."""
    print(f"listening {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def serve_commands(target):
    """Print "ready", then run {"op": name, ...args} lines as target.name(**args) until
    {"op": "exit"} or EOF; each reply is one JSON line, {"error": ...} when the op raised."""
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            if op == "exit":
                print("{}", flush=True)
                break
            reply = getattr(target, op)(**cmd)
        except Exception as e:  # report, the test decides
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
    target.close()
    return 0
