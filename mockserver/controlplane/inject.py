"""Apply a fired fault rule to one call: answer instead of the handler, or disturb its response.

`inject_faults` is the call hook the control plane registers on the router. Network faults act
on the real connection when the server is uvicorn (the journal leaves uvicorn's request cycle in
the request's notes): `reset` sends a TCP RST before any response byte; `truncate`/`cut` send part
of the body and close the connection; `stall` stops sending for a while. In-process
(httpx.ASGITransport) there is no connection: the app raises `EmulatedNetworkError`, which the test
kit's transports turn into the httpx error a socket gives.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ..core.state import ReadOnly
from ..http.errors import ApiError, EmulatedNetworkError
from ..http.names import FAULT_HEADER
from ..http.notes import notes_of
from ..http.routing import Call, Handler
from .faults import FAULTS, FaultRule, NetworkFault

STALL_LIMIT_S = 300.0


async def inject_faults(call: Call, respond: Handler) -> Response:
    """The call hook: count this call against the tenant's rules and apply the rule that fires."""
    book = FAULTS.of(call.tenant)
    if book.rules and call.tenant.read_only:
        raise ReadOnly  # counting calls changes the tenant: under its lock
    rule = book.match(call.op.id) if book.rules else None
    if rule is None:
        return await respond(call)
    call.notes.fault = rule.id
    if rule.latency:
        await asyncio.sleep(rule.latency)
    if rule.error is not None:
        headers = {FAULT_HEADER: rule.id}
        if rule.error.retry_after is not None:
            headers["Retry-After"] = str(rule.error.retry_after)
        return call.provider.error_response(ApiError(rule.error.status, rule.error.code, rule.error.message,
                                                     headers=headers))
    if rule.network is not None and rule.network.kind == "reset":
        return Disturbed(None, rule)
    call.notes.worker_crash = rule.worker_crash  # the handler hands it to the worker it uses
    before = set(call.tenant.jobs) if rule.job_error else set()
    response = await respond(call)
    if rule.job_error:
        for job_id, job in list(call.tenant.jobs.items()):
            if job_id not in before and job.provider == call.provider.name:
                job.forced_error = rule.job_error
    return Disturbed(response, rule)


async def _settle(connection: Any) -> None:
    """Let the server notice the closed connection (so it neither logs nor answers 500)."""
    deadline = time.monotonic() + 2.0
    while not getattr(connection, "disconnected", True) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


def _journal(scope: Scope, outcome: str) -> None:
    finish = notes_of(scope).finish
    if finish is not None:
        finish(outcome)


async def _close(connection: Any, *, reset: bool) -> None:
    transport = connection.transport
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    await _settle(connection)


def _connection(scope: Scope) -> Any:
    connection = notes_of(scope).connection
    return connection if hasattr(connection, "transport") else None


class Disturbed(Response):
    """Wraps a handler's response (None for `reset`): adds X-Emulator-Fault, applies network faults."""

    def __init__(self, inner: Response | None, rule: FaultRule) -> None:
        self.inner = inner
        self.rule = rule
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = _connection(scope)
        network = self.rule.network
        if self.inner is None:
            _journal(scope, "reset")
            if connection is None:
                raise EmulatedNetworkError("reset")
            await _close(connection, reset=True)
            return
        if network is None:
            await self.inner(scope, receive, _tagging(send, self.rule.id))
            return
        plan = _Plan(network, connection, scope)
        try:
            await self.inner(scope, receive, plan.wrap(send, self.rule.id))
        finally:
            # A cut or abandoned stream's generator is left suspended: close it now, not whenever GC runs.
            aclose = getattr(getattr(self.inner, "body_iterator", None), "aclose", None)
            if not plan.ended and aclose is not None:
                await aclose()
        if plan.cut_done and connection is None:
            raise EmulatedNetworkError(network.kind, plan.sent, plan.expected)


def _tagging(send: Send, rule_id: str) -> Send:
    async def tagged(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (FAULT_HEADER.lower().encode(), rule_id.encode())]
        await send(message)

    return tagged


class _Plan:
    """Where in the body a truncate / cut / stall happens, and doing it."""

    def __init__(self, fault: NetworkFault, connection: Any, scope: Scope) -> None:
        self.fault = fault
        self.connection = connection
        self.scope = scope
        self.sent = 0
        self.chunks = 0
        self.expected: int | None = None
        self.skip_first_chunk = False
        self.cut_done = False
        self.stalled = False
        self.ended = False
        """The last body message went out: the response is complete."""

    def _limit_bytes(self) -> int | None:
        if self.fault.bytes is not None:
            return self.fault.bytes
        if self.fault.kind == "truncate" and self.fault.fragments is None:
            return (self.expected or 0) // 2
        if self.fault.kind == "stall" and self.fault.fragments is None:
            return 0
        return None

    def _chunk_limit(self) -> int | None:
        if self.fault.fragments is None:
            return None
        # For fMP4 the first chunk is the init segment (ftyp+moov); fragments count after it.
        return self.fault.fragments + (1 if self.skip_first_chunk else 0)

    def wrap(self, send: Send, rule_id: str) -> Send:
        tagging = _tagging(send, rule_id)

        async def tagged(message: Message) -> None:
            await tagging(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.ended = True

        async def disturbed(message: Message) -> None:
            if self.cut_done:
                # Swallow the rest, as a closed socket would: the body's generator then ends the
                # way it does when a real client goes away (cancelled by the disconnect listener).
                return
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-length":
                        self.expected = int(value)
                    if name.lower() == b"content-type" and value.startswith(b"video/mp4"):
                        self.skip_first_chunk = True
                await tagged(message)
                return
            if message["type"] != "http.response.body":
                await tagged(message)
                return
            body: bytes = bytes(message.get("body", b""))
            byte_limit = self._limit_bytes()
            chunk_limit = self._chunk_limit()
            if byte_limit is not None and self.sent + len(body) >= byte_limit and (body or byte_limit == self.sent):
                head, tail = body[: byte_limit - self.sent], body[byte_limit - self.sent :]
                await self._act(tagged, head, tail, message)
                return
            if chunk_limit is not None and self.chunks >= chunk_limit and (body or not message.get("more_body")):
                await self._act(tagged, b"", body, message)
                return
            self.sent += len(body)
            if body:
                self.chunks += 1
            await tagged(message)

        return disturbed

    async def _act(self, send: Send, head: bytes, tail: bytes, message: Message) -> None:
        if head:
            await send({"type": "http.response.body", "body": head, "more_body": True})
            self.sent += len(head)
        if self.fault.kind == "stall" and not self.stalled:
            self.stalled = True
            await self._stall()
            if self.cut_done:
                return
            self.sent += len(tail)
            await send({**message, "body": tail})
            return
        if self.fault.kind == "stall":
            self.sent += len(tail)
            await send({**message, "body": tail})
            return
        self.cut_done = True
        _journal(self.scope, "cut")
        if self.connection is not None:
            await _close(self.connection, reset=False)

    async def _stall(self) -> None:
        seconds = STALL_LIMIT_S if self.fault.seconds is None else self.fault.seconds
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.connection is not None and getattr(self.connection, "disconnected", False):
                _journal(self.scope, "client_disconnected")
                self.cut_done = True
                return
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
