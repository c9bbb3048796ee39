"""--data-dir keeps HeyGen videos too: after a restart, status and the signed links still work."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.media import inspect_mp4
from tests.servers import serve

BODY = {
    "video_inputs": [
        {
            "character": {"type": "avatar", "avatar_id": "josh_lite3_20230714"},
            "voice": {"type": "text", "input_text": "Kept.", "voice_id": "077ab11b14f04ce0b49b5f6e5cc20979"},
        }
    ],
    "dimension": {"width": 256, "height": 144},
    "title": "persisted",
    "callback_id": "cb-1",
}


def wait_done(client: httpx.Client, video_id: str) -> dict[str, Any]:
    for _ in range(600):
        data: dict[str, Any] = client.get("/v1/video_status.get", params={"video_id": video_id}).json()["data"]
        if data["status"] in ("completed", "failed"):
            return data
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish")


def test_heygen_video_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    headers = {"X-Api-Key": "hg-test"}
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        created = client.post("/v2/video/generate", json=BODY)
        assert created.status_code == 200, created.text
        video_id = created.json()["data"]["video_id"]
        before = wait_done(client, video_id)
        assert before["status"] == "completed", before
        mp4 = client.get(before["video_url"]).content
        refused = client.post("/v2/video/generate", json={**BODY, "video_inputs": [{"character": {"type": "avatar"}}]})
        assert refused.status_code == 400

    with serve(create_app(settings)) as url, httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        after = client.get("/v1/video_status.get", params={"video_id": video_id}).json()["data"]
        assert after["status"] == "completed"
        assert after["callback_id"] == "cb-1" and after["duration"] == before["duration"]
        assert after["created_at"] == before["created_at"]
        assert client.get(after["video_url"]).content == mp4
        assert inspect_mp4(mp4).width == 256
        listed = client.get("/v1/video.list").json()["data"]["videos"]
        assert video_id in [v["video_id"] for v in listed]
