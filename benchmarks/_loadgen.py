"""A lean HTTP/1.1 load generator for bench_api.py, run as its own process (``python _loadgen.py < spec``).

Why its own: httpx spends about a millisecond of CPU per request, which on a 2-core machine shared with
the server and PostgreSQL would starve the server it measures. This generator pre-encodes every request
(``GET`` with the resident's bearer token, keep-alive), parses only the status line, ``Content-Length``
or chunked framing, and runs on uvloop when it is installed, so it costs a few tens of microseconds per
request; it reports its own CPU time so the cost is visible next to the figures.

Two modes (the spec is JSON on stdin, the result JSON on stdout):

- ``open``: requests *arrive* at a fixed rate (Poisson: exponential gaps, or uniform gaps), whatever the
  server's speed, each on an idle keep-alive connection or a new one. The latency of a request is
  measured from its **scheduled** arrival time, so a server (or a generator) that falls behind shows the
  queueing in the latency instead of silently sending fewer requests (no coordinated omission).
- ``prime``: every resident's every call once over ``clients`` connections (the cold pass).
- ``closed``: ``residents`` clients, one connection each, each sending its next request when the previous
  answer arrived, after a think time of 0.5–1.5 × ``think`` seconds (0: none, a saturation test).

Only requests scheduled (open) or sent (closed) inside the measured window — after ``warmup`` seconds,
for ``duration`` seconds — are recorded; the window ends when the last of them has been answered or has
timed out.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from urllib.parse import urlencode

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None


FAILURES = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, TimeoutError)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, int, bool]:
        """Send one pre-encoded request; (status, body bytes, connection still usable)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        chunked = False
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if chunked:
            size = 0
            while True:
                n = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(n + 2)
                size += n
                if n == 0:
                    break
            return status, size, keep
        if length is None:  # no framing: the body runs to the end of the connection
            body = await self.reader.read()
            return status, len(body), False
        await self.reader.readexactly(length)
        return status, length, keep

    def close(self) -> None:
        self.writer.close()


def encode_requests(spec: dict) -> list[list[bytes]]:
    """Per resident, per call of the mix, the request bytes."""
    host = f"{spec['host']}:{spec['port']}".encode()
    out = []
    for account, meter, token in spec["residents"]:
        row = []
        for _name, _weight, path, params in spec["calls"]:
            target = path.format(a=account, m=meter)
            if params:
                target += "?" + urlencode(params)
            row.append(
                b"GET "
                + target.encode()
                + b" HTTP/1.1\r\nHost: "
                + host
                + b"\r\nAuthorization: Bearer "
                + token.encode()
                + b"\r\nAccept: application/json\r\n\r\n"
            )
        out.append(row)
    return out


async def run_open(spec: dict) -> dict:
    loop = asyncio.get_running_loop()
    rng = random.Random(spec.get("seed", 17))
    requests = encode_requests(spec)
    names = [c[0] for c in spec["calls"]]
    weights = [c[1] for c in spec["calls"]]
    rate, warmup, duration = spec["rate"], spec["warmup"], spec["duration"]
    timeout = spec.get("timeout", 30.0)
    poisson = spec.get("arrivals", "poisson") == "poisson"
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    max_connections = spec.get("max_connections", 1000)
    opened = peak = 0
    records: list[tuple] = []  # call, scheduled, sent, outcome, bytes, answered
    tasks: set[asyncio.Task] = set()

    async def fire(call: int, raw: bytes, scheduled: float, measured: bool) -> None:
        nonlocal opened, peak
        sent = loop.time()
        conn = None
        counted = False
        outcome, size = "", 0
        try:
            async with asyncio.timeout(timeout):
                if not idle.empty():
                    conn = idle.get_nowait()
                elif opened < max_connections:
                    opened += 1
                    counted = True
                    peak = max(peak, opened)
                    conn = await Connection.open(spec["host"], spec["port"])
                else:  # at the cap: wait for an answer to free one (the wait counts as latency)
                    conn = await idle.get()
                status, size, keep = await conn.request(raw)
            outcome = str(status)
            if keep:
                idle.put_nowait(conn)
            else:
                conn.close()
                opened -= 1
        except FAILURES as exc:
            outcome = type(exc).__name__
            if conn is not None:
                conn.close()
            if conn is not None or counted:
                opened -= 1
        if measured:
            records.append((call, scheduled, sent, outcome, size, loop.time()))

    start = loop.time() + 0.05
    window_start, window_end = start + warmup, start + warmup + duration
    at = start
    since_yield = 0
    while at < window_end:
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
            since_yield = 0
        elif since_yield > 20:  # far behind schedule: still let answers be read
            await asyncio.sleep(0)
            since_yield = 0
        call = rng.choices(range(len(names)), weights)[0]
        raw = requests[rng.randrange(len(requests))][call]
        task = asyncio.ensure_future(fire(call, raw, at, at >= window_start))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        since_yield += 1
        at += rng.expovariate(rate) if poisson else 1 / rate
    if tasks:
        await asyncio.wait(set(tasks))
    while not idle.empty():
        idle.get_nowait().close()
    return {"records": records, "connections": peak, "window": [window_start, window_end]}


async def run_closed(spec: dict) -> dict:
    loop = asyncio.get_running_loop()
    requests = encode_requests(spec)
    names = [c[0] for c in spec["calls"]]
    weights = [c[1] for c in spec["calls"]]
    warmup, duration, think = spec["warmup"], spec["duration"], spec.get("think", 0.0)
    timeout = spec.get("timeout", 60.0)
    records: list[tuple] = []
    start = loop.time() + 0.05
    window_start, window_end = start + warmup, start + warmup + duration

    async def resident(i: int) -> None:
        rng = random.Random(i)
        conn = await Connection.open(spec["host"], spec["port"])
        await asyncio.sleep(max(0.0, start - loop.time()) + (rng.uniform(0, think) if think else 0))
        while loop.time() < window_end:
            call = rng.choices(range(len(names)), weights)[0]
            raw = requests[i % len(requests)][call]
            sent = loop.time()
            outcome, size = "", 0
            try:
                async with asyncio.timeout(timeout):
                    status, size, keep = await conn.request(raw)
                outcome = str(status)
                if not keep:
                    conn.close()
                    conn = await Connection.open(spec["host"], spec["port"])
            except FAILURES as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = await Connection.open(spec["host"], spec["port"])
            if sent >= window_start:
                records.append((call, sent, sent, outcome, size, loop.time()))
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        conn.close()

    await asyncio.gather(*(resident(i) for i in range(spec["clients"])))
    return {"records": records, "connections": spec["clients"], "window": [window_start, window_end]}


async def run_prime(spec: dict) -> dict:
    """Every resident's every call once, over ``clients`` connections: the cold pass that fills caches."""
    loop = asyncio.get_running_loop()
    requests = encode_requests(spec)
    work = [(call, raw) for row in requests for call, raw in enumerate(row)]
    random.Random(spec.get("seed", 17)).shuffle(work)
    records: list[tuple] = []
    start = loop.time()

    async def client() -> None:
        conn = await Connection.open(spec["host"], spec["port"])
        while work:
            call, raw = work.pop()
            sent = loop.time()
            try:
                status, size, _ = await conn.request(raw)
                outcome = str(status)
            except FAILURES as exc:
                outcome, size = type(exc).__name__, 0
                conn.close()
                conn = await Connection.open(spec["host"], spec["port"])
            records.append((call, sent, sent, outcome, size, loop.time()))
        conn.close()

    await asyncio.gather(*(client() for _ in range(spec["clients"])))
    return {"records": records, "connections": spec["clients"], "window": [start, loop.time()]}


RUNS = {"open": run_open, "closed": run_closed, "prime": run_prime}


def main() -> None:
    spec = json.load(sys.stdin)
    if uvloop is not None:
        uvloop.install()
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    result = asyncio.run(RUNS[spec["mode"]](spec))
    result["cpu_seconds"] = _cpu_seconds() - cpu0
    result["wall_seconds"] = time.perf_counter() - wall0
    result["uvloop"] = uvloop is not None
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
