"""Helpers for the HeyGen tests: polling, request bodies, a webhook receiver, pixel probes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DAISY = "Daisy-inskirt-20220818"
JOSH = "josh_lite3_20230714"
SARA = "1bd001e7e50f421d891986aad5158bc8"
PAUL = "077ab11b14f04ce0b49b5f6e5cc20979"
PHOTO = "8a2d7e4f1c9b4d3e8f6a5b4c3d2e1f00"
TERMINAL = {"completed", "failed"}
SMALL = {"width": 320, "height": 180}


def silence_scene(seconds: float = 1.0, color: str = "#ffffff", **extra: Any) -> dict[str, Any]:
    return {"voice": {"type": "silence", "duration": seconds}, "background": {"type": "color", "value": color}, **extra}


def status(client: httpx.Client, video_id: str) -> dict[str, Any]:
    response = client.get("/v1/video_status.get", params={"video_id": video_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_done(client: httpx.Client, video_id: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Poll video_status.get until completed/failed; return every response body seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(status(client, video_id))
        if seen[-1]["data"]["status"] in TERMINAL:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish in {timeout} s; last: {seen[-1] if seen else None}")


def generate(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/v2/video/generate", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["error"] is None
    video_id: str = response.json()["data"]["video_id"]
    return video_id


def mean_rgb(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean colour of a region given as fractions (x0, y0, x1, y1) of the frame."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = box
    region = frame[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].reshape(-1, 3).astype(np.float64)
    mean: np.ndarray = region.mean(axis=0)
    return mean


def close_to(actual: np.ndarray, expected: tuple[int, int, int], tol: float = 24.0) -> bool:
    return bool(np.abs(actual - np.asarray(expected, np.float64)).max() <= tol)


@dataclass
class Hit:
    method: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """An in-process webhook receiver (served on loopback by the `receiver` fixture)."""

    url: str = ""
    fail_first: int = 0
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.hits.append(Hit(request.method, body, {k.lower(): v for k, v in request.headers.items()}))
                posts = sum(1 for h in self.hits if h.method == "POST")
            if request.method == "POST" and posts <= self.fail_first:
                return JSONResponse({"error": "try again"}, status_code=500)
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", hook, methods=["POST", "OPTIONS"])])

    def posts(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.method == "POST"]

    def wait_posts(self, n: int, timeout: float = 30.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            posts = self.posts()
            if len(posts) >= n:
                return posts
            time.sleep(0.02)
        raise AssertionError(f"expected {n} POSTs, got {len(self.posts())}")
