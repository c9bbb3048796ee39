from __future__ import annotations

import time
from typing import Any

import httpx

TERMINAL = {"completed", "failed"}


def api(base_url: str, key: str = "bai-test") -> httpx.Client:
    """A client for an emulator started by `emulator_factory`."""
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def wait_terminal(client: httpx.Client, video_id: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Poll until the video is completed or failed; return every observed Video object."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] in TERMINAL:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish in {timeout} s; last: {seen[-1] if seen else None}")
