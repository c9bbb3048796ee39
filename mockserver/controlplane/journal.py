"""The request journal: one summary per request, a bounded log per tenant.

`JournalMiddleware` wraps the whole app. It records what a client could see (status, latency,
bytes, how the exchange ended) plus what the emulator knows (operation id, validation problems,
the fault that fired). Credentials are never recorded: `Authorization` and `X-Api-Key` values are
replaced by `***`. Entries are numbered (`seq`) as they are recorded, when the exchange ends; they
live in the tenant's "journal" log of the state store, so every front-end sees the same journal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.emulator import Emulator
from ..core.state import RecordLog
from ..http.names import CONTROL_PREFIX, TENANT_HEADER
from ..http.notes import notes_of

MAX_RECORDED_BODY = 64 * 1024
MAX_RECORDED_RESPONSE = 16 * 1024
"""Response bodies are kept (as text) only when JSON or text and no longer than this."""
SECRET_HEADERS = {"authorization", "x-api-key", "proxy-authorization", "cookie"}


@dataclass
class JournalEntry:
    tenant: str
    request_id: str
    method: str
    path: str
    query: str
    operation_id: str | None
    provider: str | None
    status: int | None
    outcome: str
    """completed | client_disconnected | reset | cut | error"""
    latency_ms: float | None
    """Request received to response headers sent."""
    duration_ms: float
    """Request received to the last byte (or the end of the exchange)."""
    response_bytes: int
    problems: list[str] = field(default_factory=list)
    fault: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_json: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_text: str | None = None
    """A JSON or text response body up to 16 KiB (None for media, larger or cut bodies)."""
    clock: float = 0.0
    """The tenant's emulated time when the request reached its handler (arrival time if none)."""
    wall: float = 0.0
    seq: int = 0
    """Set by the log as the entry is recorded."""

    def to_json(self) -> dict[str, Any]:
        """The entry as a plain dict. A shallow copy: the middleware builds every container of an
        entry (headers, problems, the parsed body) for it alone. (`dataclasses.asdict` deep-copies
        them again: it was 60% of what the journal cost each request.)"""
        return dict(vars(self))


BRIEF_OMITS = ("request_headers", "request_json", "response_headers", "response_text")


def brief(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without headers and bodies (what a list of many entries needs)."""
    return {key: value for key, value in entry.items() if key not in BRIEF_OMITS}


def journal_of(emulator: Emulator, tenant: str) -> RecordLog:
    """A tenant's journal, in the state store."""
    return emulator.tenants.log(tenant, "journal", emulator.settings.journal_size)


async def select(journal: RecordLog, *, operation_id: str | None = None, status: int | None = None,
                 fault: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The entries matching every given filter, in `seq` order."""
    return [
        entry
        for entry in sorted(await journal.items(), key=lambda e: int(e.get("seq", 0)))
        if (operation_id is None or entry.get("operation_id") == operation_id)
        and (status is None or entry.get("status") == status)
        and (fault is None or entry.get("fault") == fault)
    ]


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        headers[name] = "***" if name in SECRET_HEADERS else value_b.decode("latin-1")
    return headers


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind == "application/json" or kind.endswith("+json")


class JournalMiddleware:
    """Record every provider request in its tenant's journal."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        notes = notes_of(scope)
        # uvicorn passes its request cycle's bound `receive`: network faults need its transport.
        notes.connection = getattr(receive, "__self__", None)
        headers = _headers(scope["headers"])
        tenant_name = headers.get(TENANT_HEADER.lower()) or "default"
        journal = journal_of(self.emulator, tenant_name)
        started = time.monotonic()
        arrived_wall = time.time()
        body = bytearray()
        body_complete = False
        disconnected = False
        status: int | None = None
        latency: float | None = None
        sent = 0
        response_headers: dict[str, str] = {}
        response_body: bytearray | None = None

        async def recording_receive() -> Message:
            nonlocal body_complete, disconnected
            message = await receive()
            if message["type"] == "http.request":
                if len(body) <= MAX_RECORDED_BODY:
                    body.extend(message.get("body", b""))
                body_complete = not message.get("more_body", False)
            elif message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status, latency, sent, response_headers, response_body
            if message["type"] == "http.response.start":
                status = message["status"]
                latency = (time.monotonic() - started) * 1000
                response_headers = _headers(message.get("headers", []))
                if _is_text(response_headers.get("content-type", "")):
                    response_body = bytearray()
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                sent += len(chunk)
                if response_body is not None and sent <= MAX_RECORDED_RESPONSE:
                    response_body.extend(chunk)
                else:
                    response_body = None
                if not message.get("more_body", False):
                    finish("completed")  # before the client can see the end of the response
            await send(message)

        recorded = False

        def finish(outcome: str) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            request_json = None
            if body_complete and len(body) <= MAX_RECORDED_BODY and "json" in headers.get("content-type", ""):
                try:
                    request_json = json.loads(body)
                except (ValueError, RecursionError):  # RecursionError: hostile, deeply nested JSON
                    request_json = None
            journal.append(
                JournalEntry(
                    tenant=tenant_name,
                    request_id=notes.request_id,
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    operation_id=notes.operation_id,
                    provider=notes.provider,
                    status=status,
                    outcome=outcome,
                    latency_ms=None if latency is None else round(latency, 3),
                    duration_ms=round((time.monotonic() - started) * 1000, 3),
                    response_bytes=sent,
                    problems=list(notes.problems),
                    fault=notes.fault,
                    request_headers=headers,
                    request_json=request_json,
                    response_headers=response_headers,
                    response_text=None if response_body is None or outcome != "completed"
                    else response_body.decode("utf-8", "replace"),
                    clock=arrived_wall if notes.clock is None else notes.clock,
                    wall=arrived_wall,
                ).to_json()
            )

        # Network faults call it before closing the connection, so the entry exists by the time
        # the client sees the error.
        notes.finish = finish
        outcome = "completed"
        try:
            await self.app(scope, recording_receive, recording_send)
        except BaseException:
            outcome = "error"
            raise
        finally:
            finish("client_disconnected" if disconnected and outcome == "completed" else outcome)
