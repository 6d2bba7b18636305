"""Hostile RESP and other protocols against redis-server, traced, beside redis-py's
good commands: huge claimed sizes, garbage inline commands, a text protocol that
is not Redis, a pipeline that is never answered. Only the good commands make
spans, sockspan's peak RSS stays within RSS at ready + --memory-limit, and the
counters say what was given up. Hostile bytes come from this (untraced) process."""
from itlib.hostile import Budgeted, close_all, connect
from itlib.procs import STEP_TIMEOUT, now_us, wait_until
from itlib.redis_env import check, server_row

LO = "127.0.0.1"
REDIS = {"protocol": "redis"}
HOSTILE = {
    "an array of 2^31": b"*2147483647\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    "a bulk of 100 MB, 1 MB of it sent": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$104857600\r\n" + b"v" * (1 << 20),
    "garbage inline commands": b"FOOBAR x y\r\nNOTACOMMAND\r\n\x01\x02\xff junk\r\n",
    "POP3 lines": b"USER x\r\nPASS y\r\nSTAT\r\nLIST\r\nRETR 1\r\n",
}
# The first blocks for ever, so none is answered; redis-server stops reading a
# blocked client's socket, so only those of its first read (16 KiB) are seen.
BLPOPS = 300


def test_hostile_resp_beside_good_commands(sockspan, redis_server, redis_driver):
    drv = redis_driver()
    good = [["SET", "good", "1"], ["GET", "good"], ["INCR", "n"]]
    with Budgeted(sockspan, "-p", redis_server.pid) as agent:
        lport = drv.call("connect", port=redis_server.port, protocol=2)["lport"]
        t0 = now_us()
        socks = connect(redis_server.port, len(HOSTILE) + 1)
        rounds = 0
        for s, data in zip(socks, HOSTILE.values()):
            s.sendall(data)
            drv.call("commands", cmds=good)
            rounds += 1
        blpop = socks[-1]
        blpop.sendall(b"*3\r\n$5\r\nBLPOP\r\n$12\r\nhostile:list\r\n$1\r\n0\r\n" * BLPOPS)
        wait_until(lambda: agent.counter("sockspan_spans_total", {"protocol": "redis", "kind": "SERVER"})
                   == len(good) * rounds, STEP_TIMEOUT, "the good commands' spans")
        drv.call("commands", cmds=good)
        rounds += 1
        close_all(socks)
        wait_until(lambda: agent.counter("sockspan_connections") == 1, STEP_TIMEOUT, "redis-server to close them")
        t1 = now_us()
        m = agent.scrape()
        counters = {k: m[f"sockspan_{k}_total", REDIS] for k in ("parse_errors", "unmatched_messages",
                                                                 "requests_untracked")}
        # The BLPOPs, dropped unanswered at the close; the rest made no exchange.
        assert counters == {"parse_errors": 0, "unmatched_messages": BLPOPS, "requests_untracked": 0}
    agent.check_peak()
    server, client = (LO, redis_server.port), (LO, lport)
    check(agent.spans, [server_row(c[0].lower(), redis_server.pid, server, client) for c in good] * rounds, (t0, t1))
