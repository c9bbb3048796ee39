"""Session fixtures that create videos once and share what was observed with every test that needs it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from contracts import mp4
from contracts.assets import Speech, face_png, speech
from contracts.client import Client
from contracts.runs import RunCache
from contracts.target import NotApplicable, Target

TERMINAL = ("completed", "failed")
ORDER = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 2}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def video_body(size: str | None = "640x480", **extra: Any) -> dict[str, Any]:
    """A valid audio-to-video JSON body built from the suite's synthetic face and speech."""
    body: dict[str, Any] = {"model": "higgs-avatar", "ref_image": b64(face_png()), "input": b64(speech().wav)}
    if size:
        body["size"] = size
    body.update(extra)
    return body


@dataclass
class Observation:
    t: float
    status: int
    video: dict[str, Any] | None
    content_status: int | None = None
    after: dict[str, Any] | None = None
    """The video read again right after the content probe."""


@dataclass
class VideoRun:
    """One created video and everything seen about it."""

    requested_size: str
    create: httpx.Response | None = None
    video_id: str | None = None
    observations: list[Observation] = field(default_factory=list)
    final: dict[str, Any] | None = None
    content: httpx.Response | None = None
    stream_headers: httpx.Headers | None = None
    stream_status: int | None = None
    status_at_headers: dict[str, Any] | None = None
    stream_bytes: bytes = b""
    stream_boxes_error: str | None = None
    stream_first_byte_s: float | None = None

    @property
    def videos(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for o in self.observations:
            out.extend(v for v in (o.video, o.after) if isinstance(v, dict))
        return out


def timeouts(target: Target, option: float | None) -> tuple[float, float]:
    """(total wait for a video, poll interval)."""
    if target.loopback:
        return option or 30.0, 0.05
    return option or 900.0, 2.0


class Jobs:
    """Creates the suite's videos lazily, once per session, and caches results (or the error)."""

    def __init__(self, client: Client, target: Target, timeout: float | None) -> None:
        self.client = client
        self.target = target
        self.wait, self.interval = timeouts(target, timeout)
        self._runs: RunCache[VideoRun] = RunCache()

    def _cached(self, key: str, make: Callable[[], VideoRun]) -> VideoRun:
        return self._runs.get(key, make)

    def polled(self) -> VideoRun:
        """JSON create (640x480, audio input), polled to a terminal state with content probes, then downloaded."""
        return self._cached("polled", self._make_polled)

    def streamed(self) -> VideoRun:
        """POST /v1/videos/stream (JSON, audio input, default size), read to the end, then polled and downloaded."""
        return self._cached("streamed", lambda: self._make_streamed("640x640", json=video_body(None)))

    def streamed_multipart(self) -> VideoRun:
        """POST /v1/videos/stream as multipart: the face uploaded as a file, input_tts as a JSON string field."""
        tts = json.dumps({"model": "higgs-tts-3", "input": "Hello there.", "voice": "default"})
        files = {"ref_image": ("face.png", face_png(), "image/png")}
        data = {"input_tts": tts, "size": "480x640"}
        return self._cached("streamed_multipart", lambda: self._make_streamed("480x640", files=files, data=data))

    def _make_polled(self) -> VideoRun:
        run = VideoRun(requested_size="640x480")
        run.create = self.client.create("/v1/videos", json=video_body("640x480"))
        if run.create.status_code != 200:
            raise AssertionError(f"create answered {run.create.status_code}: {run.create.text[:200]}")
        run.video_id = run.create.json().get("id")
        self.poll(run, probe_content=True)
        return run

    def _make_streamed(self, size: str, **request: Any) -> VideoRun:
        run = VideoRun(requested_size=size)
        t0 = time.monotonic()
        with self.client.stream_create("/v1/videos/stream", **request) as response:
            run.stream_status = response.status_code
            run.stream_headers = response.headers
            run.video_id = response.headers.get("x-video-id")
            if response.status_code == 200 and run.video_id:
                status = self.client.get(f"/v1/videos/{run.video_id}")
                run.status_at_headers = status.json() if status.status_code == 200 else {"http": status.status_code}
            chunks = []
            for chunk in response.iter_bytes():
                if run.stream_first_byte_s is None:
                    run.stream_first_byte_s = time.monotonic() - t0
                chunks.append(chunk)
            run.stream_bytes = b"".join(chunks)
        if run.stream_status != 200:
            raise AssertionError(f"stream answered {run.stream_status}: {run.stream_bytes[:200]!r}")
        if run.video_id:
            self.poll(run, probe_content=False)
        return run

    def poll(self, run: VideoRun, *, probe_content: bool) -> None:
        deadline = time.monotonic() + self.wait
        t0 = time.monotonic()
        path = f"/v1/videos/{run.video_id}"
        extra = 0
        while True:
            r = self.client.get(path)
            obs = Observation(time.monotonic() - t0, r.status_code, _json(r))
            if probe_content:
                c = self.client.get(f"{path}/content", headers={"Range": "bytes=0-15"})
                obs.content_status = c.status_code
                obs.after = _json(self.client.get(path))
            run.observations.append(obs)
            latest = obs.after or obs.video
            status = latest.get("status") if isinstance(latest, dict) else None
            if status in TERMINAL:
                extra += 1
                if extra > 2:  # read terminal state a few more times: it must stay put
                    break
            elif time.monotonic() > deadline:
                raise AssertionError(f"video {run.video_id} not terminal after {self.wait:.0f} s (last: {latest})")
            time.sleep(self.interval)
        run.final = latest
        if status == "completed":
            run.content = self.client.get(f"{path}/content")


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def require_create(target: Target) -> None:
    if not target.may_create:
        raise NotApplicable("creates videos; the target is not loopback and no --budget-videos was given")


@pytest.fixture(scope="session")
def jobs(client: Client, target: Target, pytestconfig: pytest.Config) -> Jobs:
    """The session's shared videos."""
    return Jobs(client, target, pytestconfig.getoption("--video-timeout"))


@pytest.fixture(scope="session")
def driving_speech() -> Speech:
    """The driving audio every created video uses."""
    return speech()


def top_level_types(data: bytes) -> list[str]:
    return [b.type for b in mp4.top_level(data)]
