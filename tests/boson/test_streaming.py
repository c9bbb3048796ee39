"""POST /v1/videos/stream: a live fMP4 whose bytes arrive before the render finishes."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.boson.helpers import api, wait_terminal
from tests.media import child_boxes, inspect_mp4, top_level_boxes


def test_stream_box_order_and_content_match(client: httpx.Client, face_data_uri: str, speech_data_uri: str) -> None:
    body = {"ref_image": face_data_uri, "input": speech_data_uri, "size": "640x480"}
    with client.stream("POST", "/v1/videos/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "video/mp4"
        video_id = response.headers["x-video-id"]
        data = b"".join(response.iter_bytes())
    boxes = top_level_boxes(data)
    kinds = [k for k, _, _ in boxes]
    assert kinds[:2] == ["ftyp", "moov"]
    _, moov_at, moov_size = boxes[1]
    assert "mvex" in [k for k, _, _ in child_boxes(data, moov_at + 8, moov_at + moov_size)]
    media = [k for k in kinds[2:] if k != "mfra"]
    assert media and media[0::2] == ["moof"] * (len(media) // 2) and media[1::2] == ["mdat"] * (len(media) // 2)
    streamed = inspect_mp4(data)
    assert (streamed.width, streamed.height) == (640, 480)

    final = wait_terminal(client, video_id)[-1]
    assert final["status"] == "completed"
    stored = inspect_mp4(client.get(f"/v1/videos/{video_id}/content").content)
    assert len(stored.frames) == len(streamed.frames)
    assert (stored.width, stored.height) == (streamed.width, streamed.height)


def test_bytes_arrive_before_render_finishes(emulator_factory: Any, face_data_uri: str, speech_data_uri: str) -> None:
    # At 2x real time a 2 s clip takes ~2 s of emulated render; the header and first fragment come long before.
    with emulator_factory(pace=2.0) as url, api(url) as c:
        with c.stream("POST", "/v1/videos/stream", json={"ref_image": face_data_uri, "input": speech_data_uri}) as r:
            video_id = r.headers["x-video-id"]
            chunks = r.iter_bytes()
            first = next(chunks)
            status_after_first_byte = c.get(f"/v1/videos/{video_id}").json()["status"]
            rest = b"".join(chunks)
        assert first[4:8] == b"ftyp"
        assert status_after_first_byte in ("queued", "in_progress")
        assert len(rest) > len(first)


def test_disconnect_does_not_cancel_the_job(client: httpx.Client, face_data_uri: str) -> None:
    import base64

    from tests.media import speech_like, wav_bytes

    audio = base64.b64encode(wav_bytes(speech_like(6.0))).decode()
    with client.stream("POST", "/v1/videos/stream", json={"ref_image": face_data_uri, "input": audio}) as response:
        video_id = response.headers["x-video-id"]
        next(response.iter_raw())
    # Leaving the block closes the connection mid-stream.
    time.sleep(0.1)
    final = wait_terminal(client, video_id)[-1]
    assert final["status"] == "completed" and final["progress"] == 100
    facts = inspect_mp4(client.get(f"/v1/videos/{video_id}/content").content)
    assert abs(len(facts.frames) - 150) <= 1
