"""A webhook receiver on loopback: records every delivery, and can refuse the next N."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .server import serve


@dataclass
class Delivery:
    """One request the receiver got."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered (500 etc. while told to fail)."""
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records deliveries under path prefixes; `Inbox` is one prefix's view (one test's)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stack = contextlib.ExitStack()
        self.url = ""

    def start(self) -> WebhookReceiver:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=methods)])
        self.url = self._stack.enter_context(serve(app)).url
        return self

    def close(self) -> None:
        self._stack.close()

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self._lock:
            status = 200
            for prefix, pending in self._failures.items():
                if pending and (path == prefix or path.startswith(prefix + "/")):
                    status = pending.pop(0)
                    break
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.deliveries.append(Delivery(request.method, path, request.url.query, headers, body, status))
            self._changed.notify_all()
        if status >= 400:
            return JSONResponse({"error": "refused by the test (fail_next)"}, status_code=status)
        return JSONResponse({"received": True})

    def inbox(self, prefix: str) -> Inbox:
        return Inbox(self, "/" + prefix.strip("/"))


class Inbox:
    """The deliveries one test's webhook URL received."""

    def __init__(self, receiver: WebhookReceiver, prefix: str) -> None:
        self._receiver = receiver
        self.prefix = prefix

    @property
    def url(self) -> str:
        """Base URL to register as a callback; any path under it is recorded here."""
        return self._receiver.url + self.prefix

    def url_for(self, path: str = "") -> str:
        return self.url + ("/" + path.lstrip("/") if path else "")

    def _mine(self) -> list[Delivery]:
        return [d for d in self._receiver.deliveries if d.path == self.prefix or d.path.startswith(self.prefix + "/")]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._receiver._lock:
            return self._mine()

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next `count` deliveries with `status` (they are still recorded)."""
        with self._receiver._lock:
            self._receiver._failures.setdefault(self.prefix, []).extend([status] * count)

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Delivery]:
        """Block until at least `count` deliveries arrived; return them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._receiver._changed:
            while len(found := self._mine()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook deliveries at {self.url}, got {len(found)}")
                self._receiver._changed.wait(remaining)
            return found

    def clear(self) -> None:
        with self._receiver._lock:
            mine = self._mine()
            self._receiver.deliveries = [d for d in self._receiver.deliveries if d not in mine]
