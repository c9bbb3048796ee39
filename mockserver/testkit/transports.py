"""httpx transports that call the emulator app in-process (no socket), on the server's own loop.

They wrap `httpx.ASGITransport`, which buffers the whole response: a streamed body arrives at
once when the response ends, so use `base_url` (a real socket) to test streaming timing.
Emulated network faults become the httpx errors a real socket gives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import httpx

from ..http.errors import EmulatedNetworkError


def _network_error(exc: EmulatedNetworkError, request: httpx.Request) -> httpx.TransportError:
    if exc.kind == "reset":
        return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    expected = f", expected {exc.expected}" if exc.expected is not None else ""
    return httpx.RemoteProtocolError(
        f"peer closed connection without sending complete message body (received {exc.received} bytes{expected})",
        request=request,
    )


def _find(exc: BaseException) -> EmulatedNetworkError | None:
    if isinstance(exc, EmulatedNetworkError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner)
            if found is not None:
                return found
    return None


class _Core:
    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop, headers: Mapping[str, str] | None) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.loop = loop
        self.headers = dict(headers or {})

    async def handle(self, request: httpx.Request, body: bytes) -> httpx.Response:
        headers = httpx.Headers(request.headers)
        for name, value in self.headers.items():
            headers.setdefault(name, value)
        forwarded = httpx.Request(request.method, request.url, headers=headers, content=body,
                                  extensions=request.extensions)
        try:
            response = await self.inner.handle_async_request(forwarded)
            content = await response.aread()
        except BaseException as exc:
            found = _find(exc)
            if found is None:
                raise
            raise _network_error(found, request) from None
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(content),
                              extensions=response.extensions)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """For httpx.AsyncClient (and the async openai SDK): the app in-process, no socket."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop, headers: Mapping[str, str] | None = None) -> None:
        self._core = _Core(app, loop, headers)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        coro = self._core.handle(request, body)
        if asyncio.get_running_loop() is self._core.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._core.loop))


class EmulatorTransport(httpx.BaseTransport):
    """For httpx.Client (and the sync openai SDK): the app in-process, no socket."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop, headers: Mapping[str, str] | None = None,
                 timeout: float = 120.0) -> None:
        self._core = _Core(app, loop, headers)
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        future: Future[httpx.Response] = asyncio.run_coroutine_threadsafe(self._core.handle(request, body),
                                                                          self._core.loop)
        return future.result(timeout=self._timeout)
