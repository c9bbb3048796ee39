"""ASGI middleware every request goes through, whatever the providers and the control plane."""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .names import REQUEST_ID_HEADER
from .notes import notes_of

_HEADER = REQUEST_ID_HEADER.lower().encode()


class RequestIdMiddleware:
    """Give every response an `X-Request-Id` (echoing the client's if it sent a sane one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(12)
        for name, value in scope["headers"]:
            if name == _HEADER and 0 < len(value) <= 128:
                request_id = value.decode("latin-1")
        notes_of(scope).request_id = request_id
        header = (_HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
