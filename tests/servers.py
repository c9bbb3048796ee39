"""Run ASGI apps on a real uvicorn server on loopback, port 0, for the duration of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.testkit.server import serve as serve_running


@contextmanager
def serve(app: Any, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` with uvicorn on an ephemeral loopback port; yield its base URL."""
    with serve_running(app, host=host) as running:
        yield running.url
