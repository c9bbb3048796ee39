"""Replicas and queue: past capacity, create and stream answer 429 all_replicas_busy + Retry-After."""

from __future__ import annotations

from typing import Any

from tests.boson.helpers import api


def test_429_past_replicas_plus_queue(emulator_factory: Any, face_data_uri: str, speech_data_uri: str) -> None:
    body = {"ref_image": face_data_uri, "input": speech_data_uri}
    with emulator_factory(replicas=1, queue=2, pace="realtime") as url, api(url) as c:
        ids = [c.post("/v1/videos", json=body).json()["id"] for _ in range(3)]
        statuses = [c.get(f"/v1/videos/{i}").json()["status"] for i in ids]
        assert statuses == ["in_progress", "queued", "queued"]
        for path in ("/v1/videos", "/v1/videos/stream"):
            busy = c.post(path, json=body)
            assert busy.status_code == 429
            assert busy.json() == {"error": {"message": busy.json()["error"]["message"], "type": "all_replicas_busy"}}
            assert int(busy.headers["retry-after"]) >= 1
        other_tenant = c.post("/v1/videos", json=body, headers={"X-Emulator-Tenant": "other"})
        assert other_tenant.status_code == 200
