"""Emulators as real subprocesses (for kill -9, SIGTERM and RSS), plus small request bodies."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.media import encode_image, make_portrait, speech_like, wav_bytes

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
KEY = {"Authorization": "Bearer bai-hardening"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def status_kb(self, field: str) -> int:
        """A /proc/PID/status figure in kB (VmRSS, VmHWM...)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def reset_peak(self) -> None:
        """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=KEY, timeout=30, **kwargs)  # type: ignore[arg-type]


def start_server(*args: str, port: int | None = None) -> ServerProcess:
    """`python -m mockserver.cli serve --port P ARGS...`, waited for until it answers."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--log-level", "warning", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    server = ServerProcess(proc, port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator exited with {proc.returncode}")
        try:
            if httpx.get(f"{server.url}/openapi/boson.json", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(server)
    raise RuntimeError("the emulator did not start in 30 s")


def stop(server: ServerProcess, sig: int = signal.SIGTERM) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(sig)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=5)
    return server.proc.returncode


@contextlib.contextmanager
def running(*args: str, port: int | None = None) -> Iterator[ServerProcess]:
    server = start_server(*args, port=port)
    try:
        yield server
    finally:
        stop(server)


def face_uri(size: int = 160) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_image(make_portrait(size, size).rgb, "PNG")).decode()


def audio_uri(seconds: float) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav_bytes(speech_like(seconds))).decode()


def video_body(seconds: float, size: str = "480x640") -> dict[str, str]:
    return {"ref_image": face_uri(), "input": audio_uri(seconds), "size": size}


def wait_status(client: httpx.Client, video_id: str, wanted: set[str], timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        video: dict[str, object] = client.get(f"/v1/videos/{video_id}").json()
        if video["status"] in wanted or time.monotonic() > deadline:
            return video
        time.sleep(0.05)
