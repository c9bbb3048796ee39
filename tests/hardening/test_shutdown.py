"""SIGTERM: the emulator stops accepting, and a stream in flight still finishes."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
import pytest

from tests.media import inspect_mp4

from .helpers import KEY, start_server, stop, video_body


def _refuses_connections(url: str, within: float = 1.5) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/openapi/boson.json", timeout=1)
        except httpx.ConnectError:
            return True
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    return False


def test_stream_in_flight_finishes_after_sigterm() -> None:
    server = start_server("--pace", "realtime", "--graceful-shutdown", "15")
    try:
        with httpx.Client(base_url=server.url, headers=KEY, timeout=30) as client, \
                client.stream("POST", "/v1/videos/stream", json=video_body(2.0)) as response:
            assert response.status_code == 200
            chunks = response.iter_raw()
            data = next(chunks)
            server.proc.send_signal(signal.SIGTERM)
            assert _refuses_connections(server.url)  # stops accepting while the stream goes on
            for chunk in chunks:
                data += chunk
        facts = inspect_mp4(data)
        assert len(facts.frames) == 50  # 2 s at 25 fps: every fragment arrived
        assert server.proc.wait(timeout=20) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    except subprocess.TimeoutExpired:
        pytest.fail("the emulator did not exit after its stream finished")
    finally:
        stop(server, signal.SIGKILL)
