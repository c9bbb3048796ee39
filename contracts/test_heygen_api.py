"""Smoke tier, HeyGen: auth, the three envelopes, catalogs, quota and unknown ids. Nothing here creates a video."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import (
    BOGUS_KEY,
    GENERATE_PATH,
    STATUS_PATH,
    UNKNOWN_VIDEO_ID,
    Catalog,
    body,
    json_of,
    v1_error_problem,
    v1_ok_problem,
    v2_error_problem,
    v2_ok_problem,
)
from contracts.target import Target

VOICE_FIELDS = {
    "voice_id": str,
    "language": str,
    "gender": str,
    "name": str,
    "preview_audio": str,
    "support_pause": bool,
    "emotion_support": bool,
    "support_interactive_avatar": bool,
}
AVATAR_FIELDS = ("avatar_id", "avatar_name", "gender", "preview_image_url", "preview_video_url", "premium")
PHOTO_FIELDS = ("talking_photo_id", "talking_photo_name", "preview_image_url")
QUOTA_DETAILS = ("api", "streaming_avatar", "streaming_avatar_instance_quota", "seat")
def _refusals(client: Client, target: Target, catalog: Catalog, headers: dict[str, str]) -> list[tuple[str, str, Any]]:
    """The same valid requests a keyed client would send (a cheap test-mode generate), with `headers` for auth."""
    generate = client.post(GENERATE_PATH, auth=headers, json=body(catalog))
    if generate.status_code == 200:  # the key was not checked: a video was made
        target.count(1)
    return [
        ("v2", "GET /v2/voices", client.get("/v2/voices", auth=headers)),
        ("v2", f"POST {GENERATE_PATH}", generate),
        ("v1", f"GET {STATUS_PATH}", client.get(STATUS_PATH, auth=headers, params={"video_id": UNKNOWN_VIDEO_ID})),
    ]


@pytest.mark.clause("HEYGEN-AUTH-MISSING-KEY-401", "HEYGEN-V2-ERROR-ENVELOPE", "HEYGEN-V1-ERROR-ENVELOPE")
def test_missing_key_is_401(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: GET /v2/voices, POST /v2/video/generate (a valid body) and GET /v1/video_status.get without
    X-Api-Key.
    Requirement: MUST answer 401 in the family's error envelope (v2 error object; v1 numeric code SHOULD).
    """
    for family, label, r in _refusals(client, target, hg_catalog, {}):
        ev.check("HEYGEN-AUTH-MISSING-KEY-401", r.status_code == 401, f"{label} without a key: {r.status_code}")
        if family == "v2":
            problem = v2_error_problem(r)
            ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label} 401 body: {problem or 'ok'}")
        else:
            problem = v1_error_problem(r)
            ev.check("HEYGEN-V1-ERROR-ENVELOPE", problem is None, f"{label} 401 body: {problem or 'ok'}")


@pytest.mark.clause("HEYGEN-AUTH-BAD-KEY-401", "HEYGEN-V2-ERROR-ENVELOPE")
def test_bad_key_is_401(client: Client, target: Target, hg_catalog: Catalog, ev: Evidence) -> None:
    """Operation: the same three requests with an X-Api-Key the target never issued.
    Requirement: SHOULD answer 401 in the family's error envelope (401 vs 400 is an open question).
    """
    for family, label, r in _refusals(client, target, hg_catalog, {"X-Api-Key": BOGUS_KEY}):
        ev.check("HEYGEN-AUTH-BAD-KEY-401", r.status_code == 401, f"{label} with an unknown key: {r.status_code}")
        if family == "v2" and r.status_code >= 400:
            problem = v2_error_problem(r)
            ev.check("HEYGEN-V2-ERROR-ENVELOPE", problem is None, f"{label} body: {problem or 'ok'}")


@pytest.mark.clause("HEYGEN-AUTH-HEADER-CASE")
def test_key_header_name_case(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: GET /v2/voices with the key under x-api-key, X-Api-Key and X-API-KEY.
    Requirement: MUST accept every spelling (HTTP header names are case-insensitive).
    """
    key = target.api_key()
    for name in ("x-api-key", "X-Api-Key", "X-API-KEY"):
        r = client.get("/v2/voices", auth={name: key})
        ev.check("HEYGEN-AUTH-HEADER-CASE", r.status_code == 200, f"{name}: {r.status_code}")


@pytest.mark.clause("HEYGEN-V2-ENVELOPE", "HEYGEN-VOICES-MODEL")
def test_voices(client: Client, ev: Evidence) -> None:
    """Operation: GET /v2/voices.
    Requirement: MUST answer the v2 envelope with voices carrying heygen-mcp's eight fields.
    """
    r = client.get("/v2/voices")
    problem = v2_ok_problem(r)
    ev.check("HEYGEN-V2-ENVELOPE", problem is None, f"/v2/voices: {problem or 'ok'}")
    voices = (json_of(r) or {}).get("data", {}) if problem is None else {}
    items = voices.get("voices") if isinstance(voices, dict) else None
    if not isinstance(items, list) or not items:
        ev.check("HEYGEN-VOICES-MODEL", False, f"data.voices is {str(items)[:80]}")
        return
    bad = []
    for voice in items:
        wrong = [k for k, t in VOICE_FIELDS.items() if not isinstance(voice, dict) or not isinstance(voice.get(k), t)]
        url = urlsplit(voice.get("preview_audio") or "") if isinstance(voice, dict) else None
        if url is None or url.scheme not in ("http", "https") or not url.netloc:
            wrong.append("preview_audio (not an http(s) URL)")
        if wrong:
            bad.append(f"{str(voice)[:80]}: {wrong}")
    ev.check("HEYGEN-VOICES-MODEL", not bad, f"{len(bad)}/{len(items)} voices malformed: {bad[:3]}")


@pytest.mark.clause("HEYGEN-V2-ENVELOPE", "HEYGEN-AVATARS-LIST")
def test_avatars(client: Client, ev: Evidence) -> None:
    """Operation: GET /v2/avatars, then GET /v2/avatar/{id}/details for the first listed avatar.
    Requirement: MUST answer avatars[] and talking_photos[] with their fields, and details for a listed id.
    """
    r = client.get("/v2/avatars")
    problem = v2_ok_problem(r)
    ev.check("HEYGEN-V2-ENVELOPE", problem is None, f"/v2/avatars: {problem or 'ok'}")
    data = (json_of(r) or {}).get("data") if problem is None else None
    avatars = data.get("avatars") if isinstance(data, dict) else None
    photos = data.get("talking_photos") if isinstance(data, dict) else None
    if not isinstance(avatars, list) or not avatars or not isinstance(photos, list):
        ev.check("HEYGEN-AVATARS-LIST", False, f"avatars {str(avatars)[:60]}, talking_photos {str(photos)[:60]}")
        return
    bad = [a for a in avatars if not isinstance(a, dict) or any(k not in a for k in AVATAR_FIELDS)]
    bad += [p for p in photos if not isinstance(p, dict) or any(not isinstance(p.get(k), str) for k in PHOTO_FIELDS)]
    ev.check("HEYGEN-AVATARS-LIST", not bad, f"{len(avatars)} avatars, {len(photos)} talking photos; bad: {bad[:2]}")
    first = avatars[0].get("avatar_id") if isinstance(avatars[0], dict) else None
    d = client.get(f"/v2/avatar/{first}/details")
    problem = v2_ok_problem(d)
    ev.check("HEYGEN-V2-ENVELOPE", problem is None, f"/v2/avatar/{{id}}/details: {problem or 'ok'}")
    details = (json_of(d) or {}).get("data") if problem is None else None
    ok = isinstance(details, dict) and details.get("id") == first and isinstance(details.get("name"), str)
    ev.check("HEYGEN-AVATARS-LIST", ok, f"details of {first}: {d.status_code} {str(details)[:120]}")


@pytest.mark.clause("HEYGEN-V2-ENVELOPE", "HEYGEN-QUOTA-SHAPE")
def test_remaining_quota(client: Client, ev: Evidence) -> None:
    """Operation: GET /v2/user/remaining_quota.
    Requirement: MUST answer an integer remaining_quota and the four integer details heygen-mcp requires.
    """
    r = client.get("/v2/user/remaining_quota")
    problem = v2_ok_problem(r)
    ev.check("HEYGEN-V2-ENVELOPE", problem is None, f"remaining_quota: {problem or 'ok'}")
    data = (json_of(r) or {}).get("data") if problem is None else None
    details = data.get("details") if isinstance(data, dict) else None
    ok = (
        isinstance(data, dict)
        and type(data.get("remaining_quota")) is int
        and isinstance(details, dict)
        and all(type(details.get(k)) is int for k in QUOTA_DETAILS)
    )
    ev.check("HEYGEN-QUOTA-SHAPE", ok, f"data {str(data)[:200]}")


@pytest.mark.clause("HEYGEN-V1-ENVELOPE")
def test_v1_envelope(client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/webhook/webhook.list (a read-only v1 call).
    Requirement: MUST answer HTTP 200 with integer code 100, data and message.
    """
    r = client.get("/v1/webhook/webhook.list")
    problem = v1_ok_problem(r)
    ev.check("HEYGEN-V1-ENVELOPE", problem is None, f"webhook.list: {problem or 'ok'}")
    data = (json_of(r) or {}).get("data")
    ev.check(
        "HEYGEN-V1-ENVELOPE",
        isinstance(data, list) and "avatar_video.success" in data,
        f"event types {str(data)[:120]}",
    )


@pytest.mark.clause("HEYGEN-STATUS-UNKNOWN-VIDEO", "HEYGEN-V1-ERROR-ENVELOPE")
def test_unknown_video(client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/video_status.get for a video_id that was never created.
    Requirement: SHOULD answer 4xx (not 200 with a made-up video) in the v1 error envelope.
    """
    r = client.get(STATUS_PATH, params={"video_id": UNKNOWN_VIDEO_ID})
    ev.check("HEYGEN-STATUS-UNKNOWN-VIDEO", 400 <= r.status_code < 500, f"unknown id: {r.status_code}")
    problem = v1_error_problem(r)
    ev.check("HEYGEN-V1-ERROR-ENVELOPE", problem is None, f"unknown id body: {problem or 'ok'}")
