"""video_status.get: shape, lifecycle, failures, signed links, concurrency; video.list and video.delete."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

from tests.heygen.helpers import DAISY, SARA, SMALL, generate, silence_scene, status, wait_done
from tests.heygen.heygen_mcp_models import VideoGenerateRequest, VideoGenerateResponse, VideoStatusResponse

KEYS = {"callback_id", "caption_url", "created_at", "duration", "error", "gif_url", "id", "status", "thumbnail_url",
        "video_url", "video_url_caption"}  # fmt: skip
ORDER = {"waiting": 0, "pending": 1, "processing": 2, "completed": 3, "failed": 3}
Factory = Callable[..., AbstractContextManager[tuple[str, Starlette]]]


def check_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"code", "data", "message"} and body["code"] == 100 and body["message"] == "Success"
    data = body["data"]
    assert set(data) == KEYS
    assert type(data["created_at"]) is int
    assert data["duration"] is None or type(data["duration"]) is float
    if data["status"] != "completed":
        assert all(data[k] is None for k in ("video_url", "thumbnail_url", "gif_url", "duration"))
    if data["status"] == "failed":
        assert set(data["error"]) == {"code", "message", "detail"} and type(data["error"]["code"]) is int
    else:
        assert data["error"] is None
    VideoStatusResponse.model_validate(body)  # the official heygen-mcp client's strict model


def test_heygen_mcp_request_and_status_models_accept_our_answers(hg: httpx.Client) -> None:
    request = VideoGenerateRequest.model_validate(
        {"video_inputs": [{"character": {"avatar_id": DAISY}, "voice": {"input_text": "Hi there.", "voice_id": SARA}}]}
    )
    body = request.model_dump()  # exactly what heygen-mcp sends: title "", callback_id/aspect_ratio null
    body["dimension"] = SMALL
    created = hg.post("/v2/video/generate", json=body)
    assert created.status_code == 200, created.text
    parsed = VideoGenerateResponse.model_validate(created.json())
    assert parsed.error is None and parsed.data is not None
    seen = wait_done(hg, str(parsed.data["video_id"]))
    for body_seen in seen:
        check_shape(body_seen)
    statuses = [b["data"]["status"] for b in seen]
    assert all(ORDER[a] <= ORDER[b] for a, b in itertools.pairwise(statuses)), statuses
    assert statuses[-1] == "completed"
    assert {b["data"]["created_at"] for b in seen} == {seen[0]["data"]["created_at"]}


def test_links_are_resigned_and_refused_when_tampered_or_expired(hg: httpx.Client, heygen_app: Starlette,
                                                                 tenant: str) -> None:  # fmt: skip
    video_id = generate(hg, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
    first = wait_done(hg, video_id)[-1]["data"]
    clock = heygen_app.state.emulator.tenants.get(tenant).clock
    clock.advance(3600)
    second = status(hg, video_id)["data"]
    expires = [int(parse_qs(urlsplit(d["video_url"]).query)["Expires"][0]) for d in (first, second)]
    assert expires[1] - expires[0] >= 3600  # re-signed on every status call
    assert httpx.get(first["video_url"]).status_code == 200
    tampered = first["video_url"].replace("Signature=", "Signature=0")
    assert httpx.get(tampered).status_code == 403
    other = first["video_url"].replace("video.mp4", "thumbnail.jpg")
    assert httpx.get(other).status_code == 403
    unsigned = first["video_url"].split("?")[0]
    refused = httpx.get(unsigned)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "access_denied"
    clock.advance(7 * 24 * 3600 - 1800)
    assert httpx.get(first["video_url"]).status_code == 403  # 7 days after it was signed
    assert httpx.get(second["video_url"]).status_code == 200  # the fresher link still works
    assert httpx.get(status(hg, video_id)["data"]["video_url"]).status_code == 200


def test_failed_video_answers_200_with_an_integer_error_code(hg: httpx.Client, heygen_url: str) -> None:
    body = {"video_inputs": [{"voice": {"type": "audio", "audio_url": f"{heygen_url}/nothing/here.mp3"}}],
            "callback_id": "fail-1", "dimension": SMALL}  # fmt: skip
    seen = wait_done(hg, generate(hg, body))
    final = seen[-1]
    check_shape(final)
    data = final["data"]
    assert data["status"] == "failed" and data["callback_id"] == "fail-1"
    assert data["error"]["code"] == 40065 and "nothing/here.mp3" in data["error"]["detail"]
    long_text = {"video_inputs": [{"voice": {"type": "text", "input_text": "word " * 1001, "voice_id": SARA}}]}
    failed = wait_done(hg, generate(hg, long_text))[-1]
    check_shape(failed)
    assert failed["data"]["error"]["code"] == 40039
    # whitespace-only text is accepted and fails like any invalid text (heygen-contract §5), never a 5xx
    blank = {"video_inputs": [{"voice": {"type": "text", "input_text": " \n\u3000", "voice_id": SARA}}]}
    failed = wait_done(hg, generate(hg, blank))[-1]
    check_shape(failed)
    assert failed["data"]["error"]["code"] == 40039 and "empty" in failed["data"]["error"]["detail"]


def test_plan_concurrency_keeps_extra_jobs_pending(heygen_factory: Factory) -> None:
    with heygen_factory(heygen_concurrency=1, pace="realtime") as (url, app):
        app.state.emulator.tenants.get("conc").clock.set_mode("frozen")  # nothing finishes until the clock moves
        headers = {"X-Api-Key": "k", "X-Emulator-Tenant": "conc"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            first = generate(client, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
            second = generate(client, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
            states = {first: "", second: ""}
            for _ in range(200):
                states = {v: status(client, v)["data"]["status"] for v in states}
                if states[first] == "processing" and states[second] == "pending":
                    break
            assert states == {first: "processing", second: "pending"}
            app.state.emulator.tenants.get("conc").clock.set_mode("scaled", scale=1000.0)
            assert wait_done(client, first)[-1]["data"]["status"] == "completed"
            assert wait_done(client, second)[-1]["data"]["status"] == "completed"


def test_list_and_delete(hg: httpx.Client) -> None:
    ids = [generate(hg, {"video_inputs": [silence_scene(1.0)], "title": f"v{i}", "dimension": SMALL})
           for i in range(3)]  # fmt: skip
    for video_id in ids:
        wait_done(hg, video_id)
    page = hg.get("/v1/video.list", params={"limit": 2}).json()
    assert page["code"] == 100 and len(page["data"]["videos"]) == 2 and page["data"]["token"]
    rest = hg.get("/v1/video.list", params={"token": page["data"]["token"]}).json()["data"]
    listed = [v["video_id"] for v in page["data"]["videos"] + rest["videos"]]
    assert sorted(listed) == sorted(ids) and rest["token"] is None
    item = page["data"]["videos"][0]
    assert item["type"] == "GENERATED" and type(item["created_at"]) is int and item["status"] == "completed"
    video_url = status(hg, ids[0])["data"]["video_url"]
    deleted = hg.delete("/v1/video.delete", params={"video_id": ids[0]})
    assert deleted.status_code == 200 and deleted.json() == {"code": 100, "data": None, "message": "Success"}
    gone = hg.get("/v1/video_status.get", params={"video_id": ids[0]})
    assert gone.status_code == 404 and gone.json()["code"] == 40031
    assert httpx.get(video_url).status_code == 404
    assert hg.delete("/v1/video.delete", params={"video_id": ids[0]}).status_code == 404
    assert hg.get("/v1/video.list", params={"token": "garbage!"}).json()["code"] == 40012
