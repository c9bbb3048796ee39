"""The async job path: create, poll, download, decode what came back."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx
import numpy as np

from tests.boson.helpers import api, wait_terminal
from tests.media import frame_loudness, inspect_mp4, speech_like, top_level_boxes

ORDER = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 2}


def test_audio_to_video_lifecycle_and_media(client: httpx.Client, face_data_uri: str, speech_data_uri: str) -> None:
    created = client.post("/v1/videos", json={"ref_image": face_data_uri, "input": speech_data_uri, "size": "640x480"})
    assert created.status_code == 200, created.text
    video = created.json()
    assert re.fullmatch(r"video_[0-9a-f]{24}", video["id"])
    assert video["status"] == "queued" and video["progress"] == 0 and video["error"] is None
    assert video["object"] == "video" and video["model"] == "higgs-avatar" and video["size"] == "640x480"
    assert isinstance(video["created_at"], int)
    assert created.headers["x-request-id"]

    seen = wait_terminal(client, video["id"])
    statuses = [v["status"] for v in seen]
    assert all(ORDER[a] <= ORDER[b] for a, b in itertools.pairwise(statuses)), statuses
    progress = [v["progress"] for v in seen]
    assert progress == sorted(progress) and all(isinstance(p, int) for p in progress)
    assert seen[-1]["status"] == "completed" and seen[-1]["progress"] == 100
    assert {v["created_at"] for v in seen} == {video["created_at"]}

    content = client.get(f"/v1/videos/{video['id']}/content")
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    assert int(content.headers["content-length"]) == len(content.content)
    boxes = [kind for kind, _, _ in top_level_boxes(content.content)]
    assert boxes.index("moov") < boxes.index("mdat")
    facts = inspect_mp4(content.content)
    assert (facts.width, facts.height) == (640, 480)
    assert facts.fps == 25
    assert abs(len(facts.frames) - 50) <= 1
    assert facts.audio_codec == "aac"
    assert max(float(f.std()) for f in facts.frames) > 10  # not blank


def test_mouth_moves_with_loudness(client: httpx.Client, face_data_uri: str) -> None:
    """The face region changes more while the audio is loud than while it is silent."""
    import base64

    from tests.media import wav_bytes

    audio = speech_like(3.0, silences=[(1.0, 2.0)])
    body = {"ref_image": face_data_uri, "input": base64.b64encode(wav_bytes(audio)).decode(), "size": "640x640"}
    video = client.post("/v1/videos", json=body).json()
    assert wait_terminal(client, video["id"])[-1]["status"] == "completed"
    facts = inspect_mp4(client.get(f"/v1/videos/{video['id']}/content").content)
    frames = facts.frames
    loud = frame_loudness(audio, len(frames))
    diffs = np.array([np.abs(b.astype(np.float32) - a).mean(axis=2) for a, b in itertools.pairwise(frames)])
    # The lower-middle part of the frame (where the portrait's mouth lands) moves with the speech.
    h, w = frames[0].shape[:2]
    mouth = diffs[:, int(h * 0.45) : int(h * 0.8), int(w * 0.3) : int(w * 0.7)].mean(axis=(1, 2))
    silent = (np.arange(1, len(frames)) >= 28) & (np.arange(1, len(frames)) <= 48)
    assert mouth[~silent].mean() > 2 * mouth[silent].mean()
    assert np.corrcoef(mouth, loud[1:])[0, 1] > 0.2


def test_text_to_video(client: httpx.Client, face_data_uri: str) -> None:
    tts = {"input": "Hello. This is a test.", "voice": "nora"}
    body: dict[str, Any] = {"ref_image": face_data_uri, "input_tts": tts}
    video = client.post("/v1/videos", json=body).json()
    final = wait_terminal(client, video["id"])[-1]
    assert final["status"] == "completed", final
    facts = inspect_mp4(client.get(f"/v1/videos/{video['id']}/content").content)
    assert (facts.width, facts.height) == (640, 640)
    assert len(facts.frames) > 25
    assert facts.audio_codec == "aac"


def test_multipart_upload(client: httpx.Client, face_png: bytes, speech_wav: bytes) -> None:
    files = {"ref_image": ("face.png", face_png, "image/png"), "input": ("speech.wav", speech_wav, "audio/wav")}
    created = client.post("/v1/videos", files=files, data={"size": "480x640"})
    assert created.status_code == 200, created.text
    assert wait_terminal(client, created.json()["id"])[-1]["status"] == "completed"
    facts = inspect_mp4(client.get(f"/v1/videos/{created.json()['id']}/content").content)
    assert (facts.width, facts.height) == (480, 640)
    tts = client.post("/v1/videos", files={"ref_image": ("f.png", face_png)}, data={"input_tts": '{"input": "Hi."}'})
    assert tts.status_code == 200, tts.text


def test_range_requests(client: httpx.Client, face_data_uri: str, speech_data_uri: str) -> None:
    video = client.post("/v1/videos", json={"ref_image": face_data_uri, "input": speech_data_uri}).json()
    wait_terminal(client, video["id"])
    url = f"/v1/videos/{video['id']}/content"
    whole = client.get(url).content
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"}).status_code == 416
    assert client.get(url, params={"variant": "video"}).content == whole


def test_content_is_404_until_completed(emulator_factory: Any, face_data_uri: str, speech_data_uri: str) -> None:
    with emulator_factory(pace="realtime") as url, api(url) as c:
        video = c.post("/v1/videos", json={"ref_image": face_data_uri, "input": speech_data_uri}).json()
        early = c.get(f"/v1/videos/{video['id']}/content")
        assert early.status_code == 404
        assert early.json()["error"]["type"] == "not_found"
        assert "completed" in early.json()["error"]["message"]
        status = c.get(f"/v1/videos/{video['id']}").json()
        assert status["status"] in ("queued", "in_progress") and status["progress"] < 100


def test_a_photo_without_a_face_renders_still_and_the_job_log_says_so(client: httpx.Client) -> None:
    import base64

    from tests.media import blank_image, encode_image, wav_bytes

    image = "data:image/png;base64," + base64.b64encode(encode_image(blank_image(320, 320), "PNG")).decode()
    body = {"ref_image": image, "input": base64.b64encode(wav_bytes(speech_like(1.0))).decode(), "size": "640x480"}
    video = client.post("/v1/videos", json=body).json()
    assert wait_terminal(client, video["id"])[-1]["status"] == "completed"  # no face is not an error
    state = client.get("/_emulator/state")
    assert state.status_code == 200, state.text
    job = next(j for j in state.json()["jobs"] if j["id"] == video["id"])
    assert any("no face" in line for line in job["log"]), job["log"]
    frames = inspect_mp4(client.get(f"/v1/videos/{video['id']}/content").content).frames
    assert max(float(np.abs(f.astype(np.float32) - frames[0]).mean()) for f in frames) < 3.0  # codec noise only
