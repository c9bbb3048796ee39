"""HeyGen generate: documented refusals (smoke: nothing should be created), what real clients send (core)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contracts.assets import face_png
from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import (
    GENERATE_PATH,
    SMALL,
    STATUS_PATH,
    Catalog,
    avatar,
    body,
    error_message,
    json_of,
    text_voice,
    upload_url,
    v1_ok_problem,
    v2_error_problem,
    v2_ok_problem,
)
from contracts.heygen_jobs import HgJobs
from contracts.target import NotApplicable, Target

MSG_HEX = "circle_background_color must be in hex format."
MSG_IMAGE = "Either url or image_asset_id needs to be provided."
MSG_AUDIO = "Either audio_url or audio_asset_id needs to be provided."


def refuse(client: Client, target: Target, request: Any, **kwargs: Any) -> httpx.Response:
    """POST a body the target should refuse (waiting out 429 busy answers); an accepted one counts as created."""
    r = (
        client.patient_post(GENERATE_PATH, json=request, **kwargs)
        if request is not None
        else client.patient_post(GENERATE_PATH, **kwargs)
    )
    if r.status_code == 200:
        target.count(1)
    return r


def scene(catalog: Catalog, **parts: Any) -> dict[str, Any]:
    return {"character": avatar(catalog), "voice": text_voice(catalog), **parts}


def one(catalog: Catalog, **parts: Any) -> dict[str, Any]:
    return body(catalog, scene(catalog, **parts))


@pytest.mark.clause("HEYGEN-GENERATE-INVALID-400", "HEYGEN-V2-ERROR-ENVELOPE")
def test_invalid_bodies_are_400(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate without video_inputs, with none, with an unknown character or voice type.
    Requirement: MUST answer 400 with the v2 error envelope.
    """
    cases: dict[str, dict[str, Any]] = {
        "no video_inputs": {"test": True, "dimension": SMALL},
        "empty video_inputs": body(hg_catalog) | {"video_inputs": []},
        "character type robot": one(hg_catalog, character={"type": "robot", "avatar_id": hg_catalog.avatar_id}),
        "voice type shout": one(hg_catalog, voice=text_voice(hg_catalog) | {"type": "shout"}),
    }
    for label, request in cases.items():
        r = refuse(client, target, request)
        ev.check("HEYGEN-GENERATE-INVALID-400", r.status_code == 400, f"{label}: {r.status_code}")
        problem = v2_error_problem(r)
        ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label}: {problem or 'ok'}")


@pytest.mark.clause("HEYGEN-GENERATE-MESSAGES", "HEYGEN-V2-ERROR-ENVELOPE")
def test_documented_messages(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate with a named-colour circle background, an image background and an
    audio voice without their url/asset id (absent, null, empty).
    Requirement: MUST answer 400 with the documented message.
    """
    circle = avatar(hg_catalog, avatar_style="circle", circle_background_color="red")
    cases = [
        ("circle_background_color red", one(hg_catalog, character=circle), MSG_HEX),
        ("image background, no url", one(hg_catalog, background={"type": "image"}), MSG_IMAGE),
        (
            "image background, url null and image_asset_id empty",
            one(hg_catalog, background={"type": "image", "url": None, "image_asset_id": ""}),
            MSG_IMAGE,
        ),
        ("audio voice, no url", one(hg_catalog, voice={"type": "audio"}), MSG_AUDIO),
        ("audio voice, audio_url null", one(hg_catalog, voice={"type": "audio", "audio_url": None}), MSG_AUDIO),
    ]
    for label, request, message in cases:
        r = refuse(client, target, request)
        got = error_message(r)
        ev.check(
            "HEYGEN-GENERATE-MESSAGES",
            r.status_code == 400 and got == message,
            f"{label}: {r.status_code} {got!r}, want 400 {message!r}",
        )
        problem = v2_error_problem(r)
        ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label}: {problem or 'ok'}")


@pytest.mark.clause("HEYGEN-GENERATE-UNKNOWN-ID", "HEYGEN-V2-ERROR-ENVELOPE")
def test_unknown_avatar_and_voice(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate naming an avatar_id and a voice_id the catalog does not list.
    Requirement: MUST refuse with a 4xx v2 error rather than accept the video.
    """
    cases = {
        "unknown avatar_id": one(hg_catalog, character=avatar(hg_catalog, avatar_id="conformance_no_such_avatar")),
        "unknown voice_id": one(hg_catalog, voice=text_voice(hg_catalog, voice_id="0" * 32)),
    }
    for label, request in cases.items():
        r = refuse(client, target, request)
        ev.check("HEYGEN-GENERATE-UNKNOWN-ID", 400 <= r.status_code < 500, f"{label}: {r.status_code}")
        problem = v2_error_problem(r)
        ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label}: {problem or 'ok'}")


def _outside(catalog: Catalog) -> dict[str, dict[str, Any]]:
    silence = {"character": avatar(catalog), "voice": {"type": "silence", "duration": 1.0}}
    cases = {
        "51 scenes": body(catalog, *[silence] * 51),
        "avatar scale 5.01": one(catalog, character=avatar(catalog, scale=5.01)),
        "avatar scale -0.01": one(catalog, character=avatar(catalog, scale=-0.01)),
        "speed 1.51": one(catalog, voice=text_voice(catalog, speed=1.51)),
        "speed 0.49": one(catalog, voice=text_voice(catalog, speed=0.49)),
        "pitch 50.5": one(catalog, voice=text_voice(catalog, pitch=50.5)),
        "pitch -50.5": one(catalog, voice=text_voice(catalog, pitch=-50.5)),
        "silence 0.99 s": one(catalog, voice={"type": "silence", "duration": 0.99}),
        "silence 100.01 s": one(catalog, voice={"type": "silence", "duration": 100.01}),
        "width 257 (odd)": one(catalog) | {"dimension": {"width": 257, "height": 144}},
        "height 126": one(catalog) | {"dimension": {"width": 256, "height": 126}},
        "width 4098": one(catalog) | {"dimension": {"width": 4098, "height": 144}},
    }
    if catalog.talking_photo_id:
        photo = {"type": "talking_photo", "talking_photo_id": catalog.talking_photo_id, "scale": 2.01}
        cases["talking-photo scale 2.01"] = one(catalog, character=photo)
    return cases


@pytest.mark.clause("HEYGEN-GENERATE-RANGES", "HEYGEN-V2-ERROR-ENVELOPE")
def test_ranges_outside_are_400(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate just outside each documented range.
    Requirement: SHOULD answer 400 with the v2 error envelope.
    """
    for label, request in _outside(hg_catalog).items():
        r = refuse(client, target, request)
        ev.check("HEYGEN-GENERATE-RANGES", r.status_code == 400, f"{label}: {r.status_code}")
        if r.status_code >= 400:
            problem = v2_error_problem(r)
            ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label}: {problem or 'ok'}")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-GENERATE-RANGES", "HEYGEN-GENERATE-RETURNS-ID")
def test_ranges_bounds_are_accepted(client: Client, target: Target, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: one POST /v2/video/generate at the bounds: avatar scale 5 and 0, speed 1.5 and 0.5, pitch 50 and
    -50, silence 1 s, talking-photo scale 2, dimension 128x128 (one video).
    Requirement: SHOULD accept it (200 with a video id).
    """
    target.require_budget(1)
    hg_catalog = hg_jobs.catalog
    scenes = [
        {"character": avatar(hg_catalog, scale=5.0), "voice": text_voice(hg_catalog, speed=1.5, pitch=50)},
        {"character": avatar(hg_catalog, scale=0.0), "voice": text_voice(hg_catalog, speed=0.5, pitch=-50)},
        {"character": avatar(hg_catalog), "voice": {"type": "silence", "duration": 1.0}},
    ]
    if hg_catalog.talking_photo_id:
        photo = {"type": "talking_photo", "talking_photo_id": hg_catalog.talking_photo_id, "scale": 2.0}
        scenes.append({"character": photo, "voice": {"type": "silence", "duration": 1.0}})
    request = body(hg_catalog, *scenes) | {"dimension": {"width": 128, "height": 128}}
    r = client.create(GENERATE_PATH, json=request)
    ev.check("HEYGEN-GENERATE-RANGES", r.status_code == 200, f"bounds: {r.status_code} {error_message(r)[:160]}")
    data = (json_of(r) or {}).get("data") if r.status_code == 200 else None
    ok = v2_ok_problem(r) is None and isinstance(data, dict) and isinstance(data.get("video_id"), str)
    ev.check("HEYGEN-GENERATE-RETURNS-ID", ok, f"bounds body answered {r.status_code} {str(json_of(r))[:120]}")


@pytest.mark.clause("HEYGEN-GENERATE-INVALID-JSON", "HEYGEN-V2-ERROR-ENVELOPE")
def test_double_encoded_body(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate whose JSON body is a string holding the JSON object.
    Requirement: SHOULD answer 400 "Invalid json body".
    """
    content = json.dumps(json.dumps(one(hg_catalog)))
    r = refuse(client, target, None, content=content, headers={"Content-Type": "application/json"})
    got = error_message(r)
    ok = r.status_code == 400 and got == "Invalid json body"
    ev.check("HEYGEN-GENERATE-INVALID-JSON", ok, f"{r.status_code} {got!r}")
    problem = v2_error_problem(r)
    ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"double-encoded body: {problem or 'ok'}")


def _mcp_body(catalog: Catalog) -> dict[str, Any]:
    """heygen-mcp 0.0.3 VideoGenerateRequest.model_dump() (nulls kept), made cheap: test mode, 256x144."""
    return {
        "title": "",
        "video_inputs": [
            {
                "character": {"type": "avatar", "avatar_id": catalog.avatar_id, "avatar_style": "normal", "scale": 1.0},
                "voice": {"type": "text", "input_text": "Hi.", "voice_id": catalog.voice_id},
            }
        ],
        "test": True,
        "callback_id": None,
        "dimension": dict(SMALL),
        "aspect_ratio": None,
        "caption": False,
    }


def _n8n_body(catalog: Catalog) -> dict[str, Any]:
    """n8n 0.1.8's body (talking photo when the catalog has one) with captions and studio-api extras."""
    if catalog.talking_photo_id:
        character: dict[str, Any] = {
            "type": "talking_photo",
            "talking_photo_id": catalog.talking_photo_id,
            "scale": 1.0,
            "talking_photo_style": "",
            "offset": {"x": 0, "y": 0},
            "talking_style": "stable",
            "expression": "default",
        }
    else:
        character = avatar(catalog, scale=1.0, offset={"x": 0, "y": 0})
    voice = text_voice(catalog, "Hello conformance.", speed=1.0)
    return {
        "caption": True,
        "test": True,
        "title": "avatar-emulator conformance (n8n body)",
        "callback_id": "conformance-n8n",
        "dimension": dict(SMALL),
        "video_inputs": [{"character": character, "voice": voice, "background": {"type": "color", "value": "#f6f6fc"}}],
        "fps": 25.0,
        "enable_watermark": False,
    }


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-GENERATE-LENIENT", "HEYGEN-GENERATE-RETURNS-ID", "HEYGEN-CAPTIONS")
def test_client_bodies_are_accepted(client: Client, target: Target, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate with heygen-mcp's and n8n's exact bodies; poll the captioned one.
    Requirement: MUST accept both (200, data.video_id); captions SHOULD hold the spoken words.
    """
    target.require_budget(2)
    catalog = hg_jobs.catalog
    runs = []
    for label, request in (("heygen-mcp", _mcp_body(catalog)), ("n8n 0.1.8", _n8n_body(catalog))):
        try:
            runs.append(hg_jobs.start(request))
            ev.check("HEYGEN-GENERATE-LENIENT", True, f"{label} body accepted")
            ev.check("HEYGEN-GENERATE-RETURNS-ID", True, f"{label}: video_id {runs[-1].video_id}")
        except AssertionError as exc:
            ev.check("HEYGEN-GENERATE-LENIENT", False, f"{label} body: {exc}")
    if len(runs) < 2:
        ev.check("HEYGEN-CAPTIONS", False, "the captioned (n8n) body was not accepted")
        return
    run = runs[1]
    hg_jobs.poll(run)
    final = run.final or {}
    if final.get("status") != "completed":
        ev.check("HEYGEN-CAPTIONS", False, f"the captioned video ended {final.get('status')}: {final.get('error')}")
        return
    caption_url, captioned = final.get("caption_url"), final.get("video_url_caption")
    ev.check("HEYGEN-CAPTIONS", isinstance(captioned, str) and bool(captioned), f"video_url_caption {captioned!r}")
    if not isinstance(caption_url, str):
        ev.check("HEYGEN-CAPTIONS", False, f"caption_url is {caption_url!r}")
        return
    text = client.get(caption_url, auth=False)
    ok = text.status_code == 200 and "conformance" in text.text.lower()
    ev.check("HEYGEN-CAPTIONS", ok, f"caption file: {text.status_code}, {len(text.content)} bytes, words present: {ok}")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-V1-GENERATE")
def test_v1_generate(client: Client, target: Target, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: POST /v1/video.generate (deprecated) with one clip, then one GET /v1/video_status.get.
    Requirement: SHOULD answer v1 {"code": 100, "data": {"video_id"}} naming a video the status call knows.
    """
    target.require_budget(1)
    hg_catalog = hg_jobs.catalog
    clip = {
        "avatar_id": hg_catalog.avatar_id,
        "avatar_style": "normal",
        "input_text": "Hi.",
        "voice_id": hg_catalog.voice_id,
        "offset": {"x": 0, "y": 0},
        "scale": 1,
    }
    r = client.create("/v1/video.generate", json={"test": True, "background": "#ff00ff", "clips": [clip]})
    problem = v1_ok_problem(r)
    data = (json_of(r) or {}).get("data") if problem is None else None
    video_id = data.get("video_id") if isinstance(data, dict) else None
    ev.check("HEYGEN-V1-GENERATE", isinstance(video_id, str), f"v1 generate: {problem or 'ok'}, video_id {video_id!r}")
    if isinstance(video_id, str):
        s = client.get(STATUS_PATH, params={"video_id": video_id})
        sd = (json_of(s) or {}).get("data") if s.status_code == 200 else None
        ok = isinstance(sd, dict) and sd.get("id") == video_id
        ev.check("HEYGEN-V1-GENERATE", ok, f"status of the v1 video: {s.status_code} {str(sd)[:120]}")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-ASSET-UPLOAD")
def test_asset_upload(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/asset (the upload host) with a PNG as the raw body, then GET its url without the key.
    Requirement: MUST answer v1 code 100 with {id, name, file_type image, folder_id, meta, created_ts, url}.
    """
    if not target.may_create:
        raise NotApplicable("uploads an asset; the target is not loopback and no --budget-videos was given")
    png = face_png(256)
    r = client.post(upload_url(target.base_url), content=png, headers={"Content-Type": "image/png"})
    answer = json_of(r)
    data = answer.get("data") if isinstance(answer, dict) else None
    ok = (
        r.status_code == 200
        and isinstance(answer, dict)
        and answer.get("code") == 100
        and isinstance(data, dict)
        and all(isinstance(data.get(k), str) and data[k] for k in ("id", "name", "url"))
        and data.get("file_type") == "image"
        and isinstance(data.get("folder_id"), str)
        and "meta" in data
        and type(data.get("created_ts")) is int
    )
    ev.check("HEYGEN-ASSET-UPLOAD", ok, f"{r.status_code} {str(answer)[:240]}")
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        got = client.get(data["url"], auth=False)
        ok = got.status_code == 200 and len(got.content) > 0
        ev.check("HEYGEN-ASSET-UPLOAD", ok, f"asset url: {got.status_code}, {len(got.content)} bytes")
