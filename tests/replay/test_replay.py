"""`serve --replay`: recorded answers back, byte for byte, in order, with their stream timing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from mockserver import Settings, create_app
from mockserver.http import cassettes
from mockserver.http.cassettes import CassetteDir, Exchange, Redactor
from tests.media import inspect_mp4
from tests.replay.sessions import BOSON_KEY, HEYGEN_KEY, Transcript
from tests.servers import serve


def _headers(url: str) -> dict[str, str]:
    if url.startswith(("/v1/videos", "/_emulator")):
        return {"Authorization": f"Bearer {BOSON_KEY}"}
    return {"X-Api-Key": HEYGEN_KEY}


def test_replay_gives_back_the_recorded_bodies_and_media(full_recording: tuple[Path, Transcript]) -> None:
    folder, transcript = full_recording
    settings = Settings(seed=3, replay_dir=folder, replay_miss="404", replay_speed=0)
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=60) as client:
        for call in transcript.calls:
            kwargs = dict(call.kwargs)
            headers = {**_headers(call.url), **kwargs.pop("headers", {})}
            replayed = client.request(call.method, call.url, headers=headers, **kwargs)
            assert replayed.status_code == call.status, call.url
            if BOSON_KEY.encode() in call.content:  # the one answer that echoed the key: kept redacted
                assert replayed.content == call.content.replace(BOSON_KEY.encode(), b"<redacted>")
                continue
            assert replayed.content == call.content, f"{call.method} {call.url}"
            if call.url.startswith("/_emulator"):
                assert "x-emulator-replay" not in replayed.headers  # the control plane is never replayed
            else:
                assert replayed.headers["content-type"] == call.content_type
        # polls were answered in recorded order; once they run out, the last (terminal) answer repeats
        last_poll = [c for c in transcript.calls if c.url.startswith("/v1/videos/video_")][-1]
        again = client.get(last_poll.url, headers=_headers(last_poll.url))
        assert again.content == last_poll.content and again.json()["status"] == "completed"
    stream = next(c for c in transcript.calls if c.url == "/v1/videos/stream")
    facts = inspect_mp4(stream.content)
    assert (facts.width, facts.height, facts.audio_codec) == (640, 480, "aac") and facts.n_frames == 25


def test_replay_misses_go_to_the_emulator_or_get_a_404_in_the_provider_envelope(
    full_recording: tuple[Path, Transcript],
) -> None:
    folder, _ = full_recording
    boson = {"Authorization": f"Bearer {BOSON_KEY}"}
    heygen = {"X-Api-Key": HEYGEN_KEY}
    with serve(create_app(Settings(replay_dir=folder, replay_miss="404"))) as base:
        missing = httpx.get(f"{base}/v1/videos/video_000000000000000000000000", headers=boson)
        assert missing.status_code == 404
        assert set(missing.json()) == {"error"} and missing.json()["error"]["type"] == "not_found"
        assert "replay miss" in missing.json()["error"]["message"]
        v2 = httpx.get(f"{base}/v2/voices", headers=heygen)
        assert v2.status_code == 404 and v2.json()["data"] is None and v2.json()["error"]["code"] == "not_found"
        v1 = httpx.get(f"{base}/v1/video.list", headers=heygen)
        assert v1.status_code == 404 and set(v1.json()) == {"code", "data", "message"} and v1.json()["data"] is None
    with serve(create_app(Settings(replay_dir=folder, replay_miss="emulate"))) as base:
        voices = httpx.get(f"{base}/v2/voices", headers=heygen)
        assert voices.status_code == 200 and voices.json()["data"]["voices"]
        assert "x-emulator-replay" not in voices.headers
        # the body a miss carries reaches the emulator intact: it names the field that is wrong
        bad = httpx.post(f"{base}/v2/video/generate", headers=heygen, json={"video_inputs": []})
        assert bad.status_code == 400 and "'video_inputs'" in bad.text and "[] should be non-empty" in bad.text


def _stream_cassette(folder: Path, gap: float) -> None:
    body = bytes(range(256)) * 64
    folder_ = CassetteDir(folder)
    folder_.create(upstream="http://upstream.test", redact=[])
    exchange = Exchange(
        1,
        cassettes.Request(headers=[("content-type", "application/json")], body=b'{"a":1}', method="POST",
                          url="/v1/videos/stream"),
        cassettes.Response(headers=[("content-type", "video/mp4"), ("x-video-id", "video_x")], body=body,
                           chunks=[(0.0, 4096), (gap, len(body) - 4096)]),
    )  # fmt: skip
    folder_.write(exchange, Redactor())


@pytest.mark.parametrize("speed", [1.0, 0.5])
def test_streams_keep_their_recorded_timing_scaled_by_speed(tmp_path: Path, speed: float) -> None:
    gap = 0.2
    _stream_cassette(tmp_path, gap)
    app = create_app(Settings(replay_dir=tmp_path, replay_speed=speed))
    with serve(app) as base, httpx.stream("POST", f"{base}/v1/videos/stream", json={"a": 1},
                                          headers={"Authorization": "Bearer k"}, timeout=10) as response:  # fmt: skip
        assert response.headers["x-video-id"] == "video_x" and response.headers["x-emulator-replay"] == "1"
        received, first_at, full_at = 0, None, None
        for chunk in response.iter_raw():
            received += len(chunk)
            first_at = first_at or time.monotonic()
            if received > 4096 and full_at is None:
                full_at = time.monotonic()
    assert received == 256 * 64 and first_at is not None and full_at is not None
    assert full_at - first_at >= gap / speed - 0.02
