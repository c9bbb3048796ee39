"""The recording proxy: redaction, the cassette format, streaming pass-through."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver.cli import main
from mockserver.http.cassettes import REDACTED, CassetteDir, header
from tests.replay.sessions import BODY_SECRET, BOSON_KEY, HEYGEN_KEY, Transcript, recording


def test_no_key_anywhere_in_the_cassette_directory(full_recording: tuple[Path, Transcript]) -> None:
    folder, transcript = full_recording
    # the keys really went through: in headers, in a URL path and query, echoed back in a body
    assert any(BOSON_KEY.encode() in call.content for call in transcript.calls)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for secret in (BOSON_KEY, HEYGEN_KEY, BODY_SECRET):
            assert secret.encode() not in data, f"{secret} leaked into {path}"
            assert secret not in str(path.relative_to(folder))
    exchanges = CassetteDir(folder).load()
    auth = [header(e.request.headers, "authorization") for e in exchanges]
    assert f"Bearer {REDACTED}" in auth
    assert REDACTED in {header(e.request.headers, "x-api-key") for e in exchanges}
    echoed = next(e for e in exchanges if e.response.status == 404 and e.request.url.startswith("/v1/videos/"))
    assert echoed.request.url == f"/v1/videos/{REDACTED}?probe={REDACTED}"
    assert REDACTED in echoed.response.json()["error"]["message"]


def test_media_streams_and_signed_links_are_kept(full_recording: tuple[Path, Transcript]) -> None:
    folder, transcript = full_recording
    exchanges = CassetteDir(folder).load()
    assert [e.seq for e in exchanges] == list(range(1, len(exchanges) + 1))
    media = sorted((folder / "media").iterdir())
    assert media and all(p.stem == hashlib.sha256(p.read_bytes()).hexdigest() for p in media)
    stream = next(e for e in exchanges if e.request.url == "/v1/videos/stream")
    client_saw = next(c.content for c in transcript.calls if c.url == "/v1/videos/stream")
    assert stream.response.body == client_saw and stream.response.body[4:8] == b"ftyp"
    assert stream.response.chunks and sum(n for _, n in stream.response.chunks) == len(client_saw)
    times = [t for t, _ in stream.response.chunks]
    assert times == sorted(times)
    done = [e for e in exchanges if "response.body$.data.video_url" in e.signed_urls]
    assert done and "?Expires=" in done[-1].response.json()["data"]["video_url"]  # kept, and marked
    link = next(e for e in exchanges if e.link is not None)
    assert link.link is not None and link.link.path == "$.data.video_url"
    assert link.request.url == done[-1].response.json()["data"]["video_url"]
    assert "request.url" in link.signed_urls
    assert link.response.body == transcript.calls[[c.url.startswith("/heygen/files/") for c in transcript.calls]
                                                  .index(True)].content  # fmt: skip


def test_record_refuses_to_start_without_an_upstream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--out", str(tmp_path / "c")]) == 2
    assert "refusing to start without --upstream" in capsys.readouterr().err
    assert main(["record", "--upstream", "api.boson.ai", "--out", str(tmp_path / "c")]) == 2
    assert "must be an http(s) URL" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_streams_pass_through_as_they_arrive(tmp_path: Path) -> None:
    """The client gets the first chunk while the upstream still holds back the second."""
    release = threading.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"first-chunk"
        while not release.is_set():
            await asyncio.sleep(0.01)
        yield b"second-chunk"

    async def endpoint(request: Request) -> Response:
        return StreamingResponse(body(), media_type="video/mp4")

    upstream = Starlette(routes=[Route("/v1/videos/stream", endpoint, methods=["POST"])])
    with recording(upstream, tmp_path / "c") as proxy, httpx.stream("POST", proxy + "/v1/videos/stream",
                                                                    timeout=10) as response:  # fmt: skip
        chunks = response.iter_raw()
        assert next(chunks) == b"first-chunk"  # would block until the timeout if the proxy buffered
        held = time.monotonic()
        time.sleep(0.2)
        release.set()
        assert b"".join(chunks) == b"second-chunk"
        assert time.monotonic() - held >= 0.2
    (exchange,) = CassetteDir(tmp_path / "c").load()
    assert exchange.response.body == b"first-chunksecond-chunk"
    assert exchange.response.chunks is not None and len(exchange.response.chunks) == 2
    assert exchange.response.chunks[1][0] - exchange.response.chunks[0][0] >= 0.2
