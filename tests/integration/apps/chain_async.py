"""chain_http.py's service as ONE thread: an asyncio event loop with several requests in flight.

    chain_async.py --host IP [--port 0] --comm NAME --propagate none|b3
                   [--call http://IP:PORT]... [--barrier K]

Prints "listening <port>" once it accepts connections. HTTP/1.1 with keep-alive, parsed
by hand (GET only, no request bodies). GET /chain/<n>: waits until K requests are in
flight in this process (--barrier, default 0: no wait) or 5 s passed, then makes each
--call in order, each on a NEW connection (Connection: close) written from the loop's
one thread, with the headers --propagate says (see chainlib), and stays in flight
until the K have made their calls (or 5 s passed), so that each call is written
with K in flight however the scheduler orders them. Answers 200 with
chain_http's JSON plus
    "barrier": {"k": K, "timed_out": false, "in_flight_at_call": [m per call]}
(m: the requests in flight when that call was written), 502 on a failed call, 404 else.
"""
import asyncio
import json
import sys

from applib import set_comm
from chainlib import TIMEOUT, forwarded, parse_call, service_args, trace_headers

BARRIER_WAIT = 5.0  # seconds a request waits for the others before calling anyway
MAX_HEAD = 65536


class Service:
    def __init__(self, comm, propagate, calls, barrier):
        self.comm, self.propagate, self.barrier = comm, propagate, barrier
        self.calls = [parse_call(c) for c in calls]
        if any(scheme != "http" for scheme, _, _ in self.calls):
            raise ValueError("chain_async calls http:// only")
        self.in_flight = 0
        self.called = 0  # requests that made all their calls
        self.changed = asyncio.Condition()

    async def _wait_until(self, predicate):
        """False once predicate() holds, True when BARRIER_WAIT ran out first."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(predicate), BARRIER_WAIT)
                return False
            except asyncio.TimeoutError:
                return True

    async def _count(self, what):
        setattr(self, what, getattr(self, what) + 1)
        async with self.changed:
            self.changed.notify_all()

    async def _http(self, host, port, n, headers):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            head = f"GET /chain/{n} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            in_flight = self.in_flight
            writer.write((head + "Connection: close\r\n\r\n").encode())
            await writer.drain()
            status, resp_headers, _ = await asyncio.wait_for(read_head(reader), TIMEOUT)
            body = await asyncio.wait_for(reader.readexactly(int(resp_headers["content-length"])),
                                          TIMEOUT)
        finally:
            writer.close()
            await writer.wait_closed()
        if status != 200:
            raise RuntimeError(f"{host}:{port} answered {status}: {body[:200]!r}")
        return {"to": "http", "sent": headers, "status": status, "reply": json.loads(body)}, in_flight

    async def chain(self, n, pairs):
        await self._count("in_flight")
        try:
            timed_out = await self._wait_until(lambda: self.in_flight >= self.barrier) if self.barrier else False
            calls, counts = [], []
            for _, host, port in self.calls:
                call, m = await self._http(host, port, n, forwarded(self.propagate, pairs))
                calls.append(call)
                counts.append(m)
            if self.barrier:
                await self._count("called")
                timed_out |= await self._wait_until(lambda: self.called >= self.barrier)
        finally:
            self.in_flight -= 1
        return {"service": self.comm, "n": n, "received": trace_headers(pairs), "calls": calls,
                "barrier": {"k": self.barrier, "timed_out": timed_out, "in_flight_at_call": counts}}

    async def serve(self, reader, writer):
        try:
            while True:
                try:
                    method, target, pairs = await read_request(reader)
                except asyncio.IncompleteReadError:
                    return  # the client closed between requests
                parts = target.split("?", 1)[0].strip("/").split("/")
                if method != "GET" or len(parts) != 2 or parts[0] != "chain" or not parts[1].isdigit():
                    code, payload = 404, {"error": "not found"}
                else:
                    try:
                        code, payload = 200, await self.chain(int(parts[1]), pairs)
                    except Exception as e:  # the caller sees it; the test decides
                        code, payload = 502, {"error": f"{type(e).__name__}: {e}"}
                body = json.dumps(payload).encode()
                writer.write(f"HTTP/1.1 {code} {'OK' if code == 200 else 'Error'}\r\n"
                             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                             .encode() + body)
                await writer.drain()
        finally:
            writer.close()


async def read_request(reader):
    """(method, target, [(name, value)...]) of the next request head."""
    raw = await reader.readuntil(b"\r\n\r\n")
    if len(raw) > MAX_HEAD:
        raise ValueError("request head too large")
    lines = raw.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    pairs = [tuple(p.strip() for p in line.split(":", 1)) for line in lines[1:] if line]
    return method, target, pairs


async def read_head(reader):
    """(status, {lowercase name: value}, raw) of a response head."""
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, v in
                   (line.split(":", 1) for line in lines[1:] if line))
    return int(lines[0].split()[1]), headers, raw


async def amain(args):
    service = Service(args.comm, args.propagate, args.call, args.barrier)
    server = await asyncio.start_server(service.serve, args.host, args.port)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    args = service_args(("none", "b3"), [("--barrier", {"type": int, "default": 0})])
    set_comm(args.comm)
    try:
        asyncio.run(amain(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
