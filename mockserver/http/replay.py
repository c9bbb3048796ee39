"""`serve --replay DIR`: answer recorded requests from cassettes, in front of the emulator.

A request is matched on its method, path, query (signed-link parameters aside) and normalized
body, after the same redaction the recorder applied. Several exchanges with one match (a status
being polled) are answered in recorded order; once they run out, the last one repeats. Streamed
responses are sent chunk by chunk at their recorded times, divided by `speed` (0: no waiting).
A request no cassette holds goes to the emulator (`miss="emulate"`), or gets a 404 in the
provider's own error envelope (`miss="404"`). The control plane (`/_emulator/*`) is never replayed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .cassettes import (
    HOP_BY_HOP,
    CassetteDir,
    Exchange,
    Redactor,
    body_bytes,
    redact_body,
    request_key,
)
from .errors import ApiError
from .names import CONTROL_PREFIX

ReplayMiss = Literal["emulate", "404"]
REPLAY_HEADER = "x-emulator-replay"
"""Added to every replayed response: the `seq` of the exchange it came from."""
REGENERATED_HEADERS = frozenset({"content-length", "date", "server", *HOP_BY_HOP})
"""Recorded headers that the replaying server makes afresh."""


def exchange_key(exchange: Exchange) -> str:
    request = exchange.request
    return request_key(request.method, request.url, request.body, request.content_type)


class ReplayBook:
    """Recorded exchanges by match key, each key with a cursor that walks its sequence."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self._by_key: dict[str, list[Exchange]] = defaultdict(list)
        for exchange in exchanges:
            self._by_key[exchange_key(exchange)].append(exchange)
        self._cursor: dict[str, int] = defaultdict(int)

    def __len__(self) -> int:
        return sum(len(run) for run in self._by_key.values())

    def next(self, key: str) -> Exchange | None:
        """The next recorded answer for `key` (the last one again once they run out), or None."""
        run = self._by_key.get(key)
        if not run:
            return None
        index = min(self._cursor[key], len(run) - 1)
        self._cursor[key] += 1
        return run[index]


async def play(exchange: Exchange, send: Send, *, speed: float) -> None:
    """Send a recorded response; a streamed one chunk by chunk at its recorded times / `speed`."""
    response = exchange.response
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
        if name.lower() not in REGENERATED_HEADERS
    ]
    headers.append((REPLAY_HEADER.encode(), str(exchange.seq).encode()))
    body = response.body
    if response.chunks is None:
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    loop = asyncio.get_running_loop()
    started = loop.time()
    offset = 0
    for at, size in response.chunks:
        if speed > 0:
            delay = started + at / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": body[offset : offset + size], "more_body": True})
        offset += size
    await send({"type": "http.response.body", "body": body[offset:]})


def replaying_receive(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then waits on the real one."""
    sent = False

    async def replay_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


class ReplayMiddleware:
    """Wraps the emulator app: recorded requests are answered from `directory`'s cassettes."""

    def __init__(self, app: ASGIApp, *, directory: Path, miss: ReplayMiss = "emulate", speed: float = 1.0) -> None:
        if miss not in ("emulate", "404"):
            raise ValueError(f"replay miss must be 'emulate' or '404', not {miss!r}")
        if speed < 0:
            raise ValueError("replay speed must be >= 0 (0: no waiting)")
        self.app = app
        self.miss = miss
        self.speed = speed
        folder = CassetteDir(directory)
        self.patterns: list[str] = list(folder.manifest().get("redact", []))
        self.book = ReplayBook(folder.load())

    def key_of(self, request: Request, body: bytes) -> str:
        """The match key of a live request, redacted as the recorder redacted the recorded ones."""
        redactor = Redactor(self.patterns)
        redactor.learn(request.headers.items())
        content_type = request.headers.get("content-type")
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        redacted = body_bytes(*redact_body(body, content_type, redactor)) if body else b""
        return request_key(request.method, redactor.text(url), redacted, content_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        exchange = self.book.next(self.key_of(request, body))
        if exchange is not None:
            await play(exchange, send, speed=self.speed)
            return
        if self.miss == "404":
            provider = scope["app"].state.router.provider_for(request)
            message = (f"No recorded exchange matches {request.method} {request.url.path} "
                       "(replay miss; serve --replay-miss emulate lets the emulator answer).")
            error = ApiError(404, "not_found", message)
            await provider.error_response_for(request, error)(scope, receive, send)
            return
        await self.app(scope, replaying_receive(body, receive), send)
