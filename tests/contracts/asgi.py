"""ASGI middleware that changes what an app answers or reads: the mutants and the second implementation use it."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mockserver.http.replay import replaying_receive

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Rewrite = Callable[[Scope, int, Headers, bytes], tuple[int, Headers, bytes]]
Match = Callable[[Scope], bool]


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


replaying = replaying_receive
"""A receive that hands the app `body` (already read) first, then whatever comes next."""


def path_is(pattern: str, method: str | None = None) -> Match:
    rx = re.compile(pattern)
    return lambda scope: rx.fullmatch(scope["path"]) is not None and (method is None or scope["method"] == method)


def everything(scope: Scope) -> bool:
    return True


class Buffered:
    """Buffers responses of matching requests and lets `rewrite(scope, status, headers, body)` change them."""

    def __init__(self, app: App, match: Match, rewrite: Rewrite) -> None:
        self.app, self.match, self.rewrite = app, match, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.match(scope):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    status, headers, body = self.rewrite(scope, start["status"], list(start["headers"]), body)
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class Streamed:
    """Passes matching responses through as they stream: `headers` may change the start, `tail` adds final bytes.

    `tail(status)` is appended to a 200 body once the app has sent its last chunk (the rest stays unbuffered).
    """

    def __init__(
        self,
        app: App,
        match: Match,
        *,
        headers: Callable[[Scope, int, Headers], Headers] | None = None,
        tail: Callable[[int], bytes] | None = None,
    ) -> None:
        self.app, self.match, self.headers, self.tail = app, match, headers, tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.match(scope):
            await self.app(scope, receive, send)
            return
        status = [0]

        async def relay(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message["headers"])
                if self.headers is not None:
                    headers = self.headers(scope, status[0], headers)
                if self.tail is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                extra = self.tail(status[0]) if self.tail is not None else b""
                if extra:
                    message = {**message, "body": message.get("body", b"") + extra}
            await send(message)

        await self.app(scope, receive, relay)


class RequestRewrite:
    """Changes the request (headers, query, JSON body) before the app sees it."""

    def __init__(self, app: App, change: Callable[[Scope, bytes], tuple[Scope, bytes]]) -> None:
        self.app, self.change = app, change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope, body = self.change(dict(scope), await read_body(receive))
        await self.app(scope, replaying(body, receive), send)


class Answer:
    """Answers matching requests itself when `decide(scope, body)` returns (status, JSON); otherwise the app does."""

    def __init__(self, app: App, match: Match, decide: Callable[[Scope, bytes], tuple[int, Any] | None]) -> None:
        self.app, self.match, self.decide = app, match, decide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.match(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        answer = self.decide(scope, body)
        if answer is None:
            await self.app(scope, replaying(body, receive), send)
            return
        status, payload = answer
        data = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def json_rewrite(fn: Callable[[Scope, int, Any], tuple[int, Any]]) -> Rewrite:
    """A Buffered rewrite of JSON bodies (non-JSON bodies pass unchanged)."""

    def rewrite(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        try:
            data = json.loads(body)
        except ValueError:
            return status, headers, body
        status, data = fn(scope, status, data)
        return status, headers, json.dumps(data).encode()

    return rewrite


def rewrite_json_body(scope: Scope, body: bytes, change: Callable[[dict[str, Any]], None]) -> tuple[Scope, bytes]:
    """Apply `change` to a JSON object request body; fix Content-Length. Other bodies pass unchanged."""
    try:
        data = json.loads(body)
    except ValueError:
        return scope, body
    if not isinstance(data, dict):
        return scope, body
    change(data)
    body = json.dumps(data).encode()
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + [
        (b"content-length", str(len(body)).encode())
    ]
    return scope, body


def change_json_request(
    paths: tuple[str, ...],
    change: Callable[[dict[str, Any]], None],
    *,
    when: Callable[[dict[str, Any]], bool] = lambda data: True,
) -> Callable[[App], App]:
    """Middleware that rewrites the JSON body of POSTs to `paths` (when `when(body)`) before the app reads it."""

    def guarded(data: dict[str, Any]) -> None:
        if when(data):
            change(data)

    def wrap(app: App) -> App:
        def rw(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
            if scope["method"] != "POST" or scope["path"] not in paths:
                return scope, body
            return rewrite_json_body(scope, body, guarded)

        return RequestRewrite(app, rw)

    return wrap


def strip_response_headers(names: set[bytes], match: Match = everything) -> Callable[[App], App]:
    """Middleware that removes the named response headers (lower-case names)."""

    def drop(scope: Scope, status: int, headers: Headers) -> Headers:
        return [(k, v) for k, v in headers if k.lower() not in names]

    return lambda app: Streamed(app, match, headers=drop)
