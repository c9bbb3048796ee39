"""Sessions a client plays through the recording proxy, and a transcript of what it saw."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp

from mockserver.tools.record import Recorder
from tests.heygen.helpers import SMALL, silence_scene
from tests.servers import serve

BOSON_KEY = "bai-KNOWN-test-key-5f1e2d"
HEYGEN_KEY = "hg-KNOWN-test-key-9a8b7c"
BODY_SECRET = "secret-4242"
REDACT = ["secret-[0-9]+"]
BOSON_TERMINAL = {"completed", "failed"}
HEYGEN_TERMINAL = {"completed", "failed", "succeeded"}


@contextmanager
def recording(upstream: ASGIApp, out: Path, *, redact: list[str] | None = None) -> Iterator[str]:
    """Serve `upstream` and a recording proxy in front of it; yield the proxy's URL. On exit both
    have stopped and every exchange (and followed link) is on disk."""
    with serve(upstream) as upstream_url:
        recorder = Recorder(upstream_url, out, redact=redact or [])
        with serve(recorder.app()) as proxy_url:
            yield proxy_url


@dataclass
class Call:
    method: str
    url: str
    kwargs: dict[str, Any]
    status: int
    content_type: str
    content: bytes


@dataclass
class Transcript:
    """Every call a session made, with what came back: replaying the calls must give the same."""

    calls: list[Call] = field(default_factory=list)

    def call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = client.request(method, url, **kwargs)
        self.calls.append(Call(method, url, kwargs, response.status_code,
                               response.headers.get("content-type", ""), response.content))  # fmt: skip
        return response


def boson_client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {BOSON_KEY}"}, timeout=60)


def heygen_client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-Api-Key": HEYGEN_KEY}, timeout=60)


def poll(t: Transcript, client: httpx.Client, url: str, terminal: set[str], **kwargs: Any) -> dict[str, Any]:
    for _ in range(1200):
        body: dict[str, Any] = t.call(client, "GET", url, **kwargs).json()
        status = body.get("status") or body["data"]["status"]
        if status in terminal:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{url} never became terminal")


def boson_render(t: Transcript, client: httpx.Client, video: dict[str, Any]) -> None:
    """Create, poll to the end, download."""
    video_id = t.call(client, "POST", "/v1/videos", json=video).json()["id"]
    poll(t, client, f"/v1/videos/{video_id}", BOSON_TERMINAL)
    t.call(client, "GET", f"/v1/videos/{video_id}/content")


def boson_stream(t: Transcript, client: httpx.Client, video: dict[str, Any]) -> None:
    streamed = t.call(client, "POST", "/v1/videos/stream", json=video)
    assert streamed.status_code == 200, streamed.text
    poll(t, client, f"/v1/videos/{streamed.headers['x-video-id']}", BOSON_TERMINAL)


def boson_busy(t: Transcript, client: httpx.Client, video: dict[str, Any]) -> None:
    """A 429 (made with the emulator's fault control plane, recorded too)."""
    t.call(client, "POST", "/_emulator/faults", json={"operation_id": "createVideo", "error": 429})
    assert t.call(client, "POST", "/v1/videos", json=video).status_code == 429


def heygen_render(t: Transcript, client: httpx.Client) -> None:
    """Generate, poll to the end, download the signed video_url (straight from the upstream)."""
    body = {"video_inputs": [silence_scene(1.0)], "dimension": SMALL, "title": f"title {BODY_SECRET}"}
    video_id = t.call(client, "POST", "/v2/video/generate", json=body).json()["data"]["video_id"]
    final = poll(t, client, "/v1/video_status.get", HEYGEN_TERMINAL, params={"video_id": video_id})
    link = urlsplit(final["data"]["video_url"])
    media = httpx.get(final["data"]["video_url"], timeout=60)
    t.calls.append(Call("GET", f"{link.path}?{link.query}", {}, media.status_code,
                        media.headers.get("content-type", ""), media.content))  # fmt: skip


def full_session(proxy: str, video: dict[str, Any]) -> Transcript:
    """Both providers: renders, polls, downloads, a stream, a 429, a 401, a key echoed in a 404."""
    t = Transcript()
    with boson_client(proxy) as boson, heygen_client(proxy) as heygen:
        boson_render(t, boson, video)
        boson_stream(t, boson, video)
        boson_busy(t, boson, video)
        t.call(boson, "GET", f"/v1/videos/{BOSON_KEY}", params={"probe": BOSON_KEY})
        heygen_render(t, heygen)
        t.call(heygen, "GET", "/v1/video_status.get", params={"video_id": "missing"})
        t.call(heygen, "GET", "/v2/avatars", headers={"X-Api-Key": ""})
    return t
