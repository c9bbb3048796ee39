"""A small keep-alive HTTP/1.1 load generator for loopback benchmarks.

httpx is too slow to load a server that answers 15k+ requests/s, so this speaks just enough
HTTP/1.1 over raw asyncio streams: fixed GET requests, Content-Length framed responses.
It refuses any host outside the loopback range.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _worker(
    host: str, port: int, request: bytes, deadline: float, result: LoadResult, interval: float = 0.0
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        result.errors[type(exc).__name__] += 1
        return
    jitter = random.Random(id(result) ^ id(writer))
    if interval:  # spread the clients out: real pollers are not in lock-step
        await asyncio.sleep(jitter.uniform(0, interval))
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                result.errors[type(exc).__name__] += 1
                return
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1
            result.requests += 1
            if interval:
                await asyncio.sleep(jitter.uniform(0.5, 1.5) * interval)
    finally:
        writer.close()


async def run_load(
    host: str,
    port: int,
    path: str,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    interval: float = 0.0,
) -> LoadResult:
    """GET `path` over `connections` keep-alive connections for `seconds`; each connection waits
    about `interval` seconds (randomly 0.5x to 1.5x, after a random start) between a response and its
    next request (0: closed loop, as fast as it can)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("load runs only against loopback addresses")
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode()
    result = LoadResult()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(host, port, request, deadline, result, interval) for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result
