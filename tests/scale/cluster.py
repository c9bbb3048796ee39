"""A real Redis, front-ends and render workers as separate processes on loopback, and a round-robin
proxy in front of the front-ends: what `docs/deploy/` describes, on one machine."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.hardening.helpers import ROOT, free_port
from tests.system import system_tool

INSTALL = "apt-get install -y redis-server"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def redis_server_binary() -> str:
    """redis-server's path; without it the test skips (in CI, where `.ci/run` installs it, it fails)."""
    return system_tool("redis-server", INSTALL)


@dataclass
class RedisServer:
    """redis-server on a loopback port, appending every write to its AOF (fsync always)."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
               "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "yes"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until it answers PING: its append-only file is loaded
            with contextlib.suppress(redis.RedisError), redis.Redis(port=self.port, socket_timeout=1) as client:
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)


def start_frontend(redis_url: str, data_dir: Path, *args: str) -> Process:
    port = free_port()
    cmd = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--log-level", "warning",
           "--state", redis_url, "--data-dir", str(data_dir), "--lazy-workers", *args]
    frontend = Process(f"front-end:{port}", subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL), port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if frontend.proc.poll() is not None:
            raise RuntimeError(f"the front-end exited with {frontend.proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(frontend.url + "/_emulator/health", timeout=1).status_code == 200:
                return frontend
        time.sleep(0.05)
    frontend.kill()
    raise RuntimeError("the front-end did not start in 30 s")


def start_worker(redis_url: str, data_dir: Path, name: str) -> Process:
    cmd = [sys.executable, "-m", "mockserver.cli", "worker", "--state", redis_url, "--data-dir", str(data_dir),
           "--concurrency", "1", "--name", name]
    return Process(name, subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL))


def round_robin(backends: list[str]) -> Starlette:
    """A reverse proxy that sends each request to the next backend in turn (streams pass through)."""
    turn = iter(range(1 << 62))
    client = httpx.AsyncClient(timeout=120)

    async def forward(request: Request) -> StreamingResponse:
        base = backends[next(turn) % len(backends)]
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        raw = request.scope["raw_path"].decode("latin-1")  # as sent: percent-encoded, never re-encoded
        query = request.scope["query_string"].decode("latin-1")
        upstream = client.build_request(request.method, base + raw + (f"?{query}" if query else ""),
                                        headers=headers, content=await request.body())
        response = await client.send(upstream, stream=True)
        kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}

        async def body() -> AsyncIterator[bytes]:
            async for chunk in response.aiter_raw():
                yield chunk

        return StreamingResponse(body(), status_code=response.status_code, headers=kept,
                                 background=BackgroundTask(response.aclose))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"])],
                     lifespan=lifespan)
