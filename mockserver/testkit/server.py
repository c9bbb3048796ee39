"""Serve an ASGI app with uvicorn on an ephemeral loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop
    """The loop the app runs on: in-process transports hand their requests to it."""


@contextmanager
def serve(app: Any, *, host: str = "127.0.0.1") -> Iterator[RunningServer]:
    """Serve `app` on `host`, port 0; yield where it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it, Nagle + delayed ACK add ~40 ms to every keep-alive exchange.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True, name=f"uvicorn:{port}")
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn failed to start")
            threading.Event().wait(0.01)
        yield RunningServer(f"http://{host}:{port}", app, loops[0])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
