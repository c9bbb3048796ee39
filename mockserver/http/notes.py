"""What the emulator learns about one request, kept in one dataclass under one scope key.

The request-id middleware, the router, fault injection and the journal all write and read the
same `RequestNotes`, found with `notes_of(scope)`.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

SCOPE_KEY = "avatar_emulator.notes"


@dataclass
class RequestNotes:
    request_id: str = ""
    operation_id: str | None = None
    """The OpenAPI operation the router bound the request to (None: no route)."""
    provider: str | None = None
    problems: list[str] = field(default_factory=list)
    """Why the request was refused (validation problems, or the error's message)."""
    fault: str | None = None
    """The id of the fault rule that fired on this request."""
    clock: float | None = None
    """The tenant's emulated time when the request reached its handler."""
    worker_crash: str | None = None
    """A `worker_crash` fault asked the worker serving this request to die at "probe" or "render"."""
    connection: Any = None
    """The server's connection object (uvicorn's request cycle), for network faults; None in-process."""
    finish: Callable[[str], None] | None = None
    """Records the request in the journal now, with an outcome (the journal sets it)."""


def notes_of(scope: MutableMapping[str, Any]) -> RequestNotes:
    """The notes of the request in `scope` (made on first use)."""
    notes = scope.get(SCOPE_KEY)
    if not isinstance(notes, RequestNotes):
        notes = RequestNotes()
        scope[SCOPE_KEY] = notes
    return notes
