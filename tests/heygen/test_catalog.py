"""Catalog, assets, quota and the legacy v1 generate."""

from __future__ import annotations

import httpx

from tests.heygen.helpers import DAISY, PAUL, SARA, SMALL, generate, mean_rgb, wait_done
from tests.heygen.heygen_mcp_models import RemainingQuotaResponse, VoicesResponse
from tests.media import encode_image, inspect_mp4, make_portrait


def test_catalog_lists_and_previews(hg: httpx.Client) -> None:
    voices = hg.get("/v2/voices").json()
    parsed = VoicesResponse.model_validate(voices)  # heygen-mcp: 8 required fields, preview_audio a URL
    assert parsed.data is not None and SARA in [v.voice_id for v in parsed.data.voices]
    sample = httpx.get(voices["data"]["voices"][0]["preview_audio"])
    assert sample.status_code == 200 and sample.headers["content-type"] == "audio/mpeg" and len(sample.content) > 1000
    avatars = hg.get("/v2/avatars").json()
    assert avatars["error"] is None and avatars["data"]["talking_photos"]
    daisy = next(a for a in avatars["data"]["avatars"] if a["avatar_id"] == DAISY)
    png = httpx.get(daisy["preview_image_url"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert hg.get("/v2/avatars").json() == avatars  # stable ids and links
    details = hg.get(f"/v2/avatar/{DAISY}/details").json()
    assert details["error"] is None and details["data"]["id"] == DAISY and details["data"]["type"] == "avatar"
    missing = hg.get("/v2/avatar/Nobody/details")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "avatar_not_found"
    quota = RemainingQuotaResponse.model_validate(hg.get("/v2/user/remaining_quota").json())
    assert quota.data is not None and quota.data.remaining_quota > 0


def test_uploaded_image_becomes_a_talking_photo(hg: httpx.Client) -> None:
    portrait = make_portrait(256, 256, seed=3)
    upload = hg.post("/v1/asset", content=encode_image(portrait.rgb, "JPEG"), headers={"Content-Type": "image/jpeg"})
    assert upload.status_code == 200, upload.text
    asset = upload.json()["data"]
    assert asset["file_type"] == "image" and type(asset["created_ts"]) is int and asset["image_key"]
    assert httpx.get(asset["url"]).content[:3] == b"\xff\xd8\xff"
    photos = hg.get("/v2/avatars").json()["data"]["talking_photos"]
    assert asset["id"] in [p["talking_photo_id"] for p in photos]
    body = {"video_inputs": [{"character": {"type": "talking_photo", "talking_photo_id": asset["id"]},
                              "voice": {"type": "text", "input_text": "Hello from a photo.", "voice_id": PAUL},
                              "background": {"type": "color", "value": "#00ff00"}}], "dimension": SMALL}  # fmt: skip
    final = wait_done(hg, generate(hg, body))[-1]["data"]
    assert final["status"] == "completed", final
    frame = inspect_mp4(httpx.get(final["video_url"]).content).frames[5]
    assert mean_rgb(frame, (0.0, 0.0, 0.1, 1.0))[1] > 200  # green bars beside the square photo
    assert abs(mean_rgb(frame, (0.4, 0.3, 0.6, 0.7))[1] - 255) > 40  # the photo in the middle


def test_upload_refusals(hg: httpx.Client) -> None:
    wrong = hg.post("/v1/asset", content=b"abc", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 400 and type(wrong.json()["code"]) is int and wrong.json()["data"] is None
    corrupt = hg.post("/v1/asset", content=b"\x89PNG\r\n\x1a\n" + b"\0" * 50, headers={"Content-Type": "image/png"})
    assert corrupt.status_code == 400 and corrupt.json()["code"] == 40002
    empty = hg.post("/v1/asset", content=b"", headers={"Content-Type": "video/mp4"})
    assert empty.status_code == 400


def test_legacy_v1_generate(hg: httpx.Client) -> None:
    body = {"background": "#0000ff", "ratio": "9:16", "test": True, "version": "v1alpha", "caption_open": False,
            "clips": [{"avatar_id": DAISY, "avatar_style": "normal", "input_text": "Hi.", "offset": {"x": 0, "y": 0},
                       "scale": 1, "voice_id": SARA}]}  # fmt: skip
    created = hg.post("/v1/video.generate", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["code"] == 100 and created.json()["message"] == "Success"
    final = wait_done(hg, created.json()["data"]["video_id"])[-1]["data"]
    assert final["status"] == "completed", final
    facts = inspect_mp4(httpx.get(final["video_url"]).content)
    assert (facts.width, facts.height) == (720, 1280)
    assert mean_rgb(facts.frames[3], (0.0, 0.0, 0.1, 0.3))[2] > 200
    refused = hg.post("/v1/video.generate", json={"clips": [{"input_text": "Hi.", "voice_id": SARA}]})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 400175,
        "data": None,
        "message": "Either avatar_id or talking_photo_id needs to be provided.",
    }
    missing = hg.post("/v1/video.generate", json={"ratio": "16:9"})
    assert missing.status_code == 400 and missing.json()["code"] == 40001
    unknown = hg.post(
        "/v1/video.generate", json={"clips": [{"avatar_id": "Nobody", "input_text": "Hi.", "voice_id": SARA}]}
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == 400144
