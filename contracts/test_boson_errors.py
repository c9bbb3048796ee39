"""Smoke tier: auth, error envelopes and documented error cases. Nothing here should create a video.

Every request breaks exactly one rule and is valid in everything else (a real face, real speech), so a server
that checks its inputs in another order still gives the answer the clause names.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from contracts.assets import face_png, speech
from contracts.client import Client, request_id
from contracts.evidence import Evidence
from contracts.fixtures import b64, video_body
from contracts.target import Target

UNKNOWN_ID = "video_0123456789abcdef01234567"
TOO_LONG = "a" * 5001


def face() -> str:
    return b64(face_png())


def audio() -> str:
    return b64(speech().wav)


def refuse(client: Client, target: Target, path: str, **kwargs: Any) -> httpx.Response:
    """POST a request the target should refuse (waiting out 429 busy answers); one it accepts (200) is counted as
    a created video."""
    r = client.patient_post(path, **kwargs)
    if r.status_code == 200 and path.startswith("/v1/videos"):
        target.count(1)
    return r


def envelope_problem(response: httpx.Response) -> str | None:
    """Why the body is not {"error":{"message":str,"type":str}}, or None."""
    try:
        body: Any = response.json()
    except ValueError:
        return f"body is not JSON: {response.text[:80]!r}"
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return f"no error object: {str(body)[:120]}"
    if not isinstance(err.get("message"), str) or not err["message"]:
        return f"error.message missing or not a non-empty string: {err}"
    if not isinstance(err.get("type"), str) or not err["type"]:
        return f"error.type missing or not a non-empty string: {err}"
    return None


def error_type(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return None


@pytest.mark.clause("BOSON-AUTH-MISSING-KEY-401", "BOSON-ERROR-ENVELOPE")
def _keyless_requests() -> list[tuple[str, str, dict[str, Any]]]:
    """One valid request per operation (only the key is missing)."""
    speech_body = {"model": "higgs-tts-3", "input": "Hello.", "response_format": "wav"}
    return [
        ("GET", f"/v1/videos/{UNKNOWN_ID}", {}),
        ("GET", f"/v1/videos/{UNKNOWN_ID}/content", {}),
        ("GET", "/v1/audio/voices", {}),
        ("POST", "/v1/videos", {"json": video_body()}),
        ("POST", "/v1/videos/stream", {"json": video_body()}),
        ("POST", "/v1/audio/speech", {"json": speech_body}),
    ]


@pytest.mark.clause("BOSON-AUTH-MISSING-KEY-401", "BOSON-ERROR-ENVELOPE", "BOSON-ERROR-TYPES")
def test_missing_key_is_401(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: every operation (valid requests) without Authorization.
    Requirement: MUST answer 401 invalid_api_key with the error envelope.
    """
    for method, path, kwargs in _keyless_requests():
        r = client.request(method, path, auth=False, **kwargs)
        if r.status_code == 200 and method == "POST" and path.startswith("/v1/videos"):
            target.count(1)
        ev.check("BOSON-AUTH-MISSING-KEY-401", r.status_code == 401, f"{method} {path} without a key: {r.status_code}")
        problem = envelope_problem(r)
        ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"{method} {path} 401 body: {problem or 'ok'}")
        ev.check(
            "BOSON-ERROR-TYPES",
            r.status_code == 401 and error_type(r) == "invalid_api_key",
            f"{method} {path} without a key: {r.status_code} type={error_type(r)}",
        )


@pytest.mark.clause("BOSON-AUTH-BAD-KEY-401", "BOSON-ERROR-ENVELOPE")
def test_bad_key_is_401(client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/audio/voices with a wrong scheme, an empty bearer and an unknown bai- key.
    Requirement: MUST answer 401 invalid_api_key with the error envelope.
    """
    for label, headers in (
        ("Basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("bearer without a token", {"Authorization": "Bearer"}),
        ("unknown key", {"Authorization": "Bearer bai-conformance-not-a-real-key-0000"}),
    ):
        r = client.get("/v1/audio/voices", auth=headers)
        ok = r.status_code == 401 and error_type(r) == "invalid_api_key"
        ev.check("BOSON-AUTH-BAD-KEY-401", ok, f"{label}: {r.status_code} type={error_type(r)}")
        if r.status_code >= 400:
            problem = envelope_problem(r)
            ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"401 body: {problem or 'ok'}")


@pytest.mark.clause("BOSON-ERROR-UNKNOWN-VIDEO-404", "BOSON-ERROR-ENVELOPE")
def test_unknown_video_is_404(client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/videos/{id} and /content for an id that was never created.
    Requirement: MUST answer 404 with the error envelope.
    """
    for path in (f"/v1/videos/{UNKNOWN_ID}", f"/v1/videos/{UNKNOWN_ID}/content"):
        r = client.get(path)
        ev.check("BOSON-ERROR-UNKNOWN-VIDEO-404", r.status_code == 404, f"GET {path}: {r.status_code}")
        problem = envelope_problem(r)
        ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"404 body: {problem or 'ok'}")


def invalid_bodies() -> dict[str, dict[str, Any]]:
    """Create bodies that break one rule each, with a real face and real speech everywhere else."""
    return {
        "neither input nor input_tts": {"ref_image": face()},
        "both input and input_tts": {"ref_image": face(), "input": audio(), "input_tts": {"input": "Hello."}},
        "unknown field": {"ref_image": face(), "input": audio(), "prompt": "x"},
        "bad size": {"ref_image": face(), "input": audio(), "size": "1920x1080"},
        "missing ref_image": {"input": audio()},
    }


@pytest.mark.clause("BOSON-ERROR-CREATE-INVALID-400", "BOSON-ERROR-ENVELOPE")
def test_invalid_create_is_400(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/videos and /v1/videos/stream with bodies the schema forbids.
    Requirement: MUST answer 400 with the error envelope (and never start a job).
    """
    for path in ("/v1/videos", "/v1/videos/stream"):
        for label, body in invalid_bodies().items():
            r = refuse(client, target, path, json=body)
            ev.check("BOSON-ERROR-CREATE-INVALID-400", r.status_code == 400, f"{path} {label}: {r.status_code}")
            problem = envelope_problem(r)
            ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"{path} {label}: {problem or 'ok'}")


@pytest.mark.clause("BOSON-ERROR-UNKNOWN-FIELD", "BOSON-ERROR-ENVELOPE")
def test_unknown_fields_are_400(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/videos and /v1/videos/stream with one unknown field at the top level, and one inside
    an otherwise valid input_tts.
    Requirement: MUST answer 400 with the error envelope (additionalProperties is false at both levels).
    """
    cases = {
        "top-level conformance_unknown": {"ref_image": face(), "input": audio(), "conformance_unknown": True},
        "input_tts.conformance_unknown": {
            "ref_image": face(),
            "input_tts": {"model": "higgs-tts-3", "input": "Hello.", "conformance_unknown": True},
        },
    }
    for path in ("/v1/videos", "/v1/videos/stream"):
        for label, body in cases.items():
            r = refuse(client, target, path, json=body)
            ev.check("BOSON-ERROR-UNKNOWN-FIELD", r.status_code == 400, f"{path} {label}: {r.status_code}")
            problem = envelope_problem(r)
            ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"{path} {label}: {problem or 'ok'}")


@pytest.mark.clause("BOSON-ERROR-INPUT-TOO-LONG", "BOSON-ERROR-ENVELOPE", "BOSON-ERROR-TYPES")
def test_input_too_long(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/audio/speech (JSON and multipart) and POST /v1/videos and /stream (input_tts, with a
    real face) with 5001 characters of text.
    Requirement: MUST answer 400 input_too_long.
    """
    speech_json = {"model": "higgs-tts-3", "input": TOO_LONG, "response_format": "wav"}
    speech_form = {"input": (None, TOO_LONG), "response_format": (None, "wav")}
    tts = {"ref_image": face(), "input_tts": {"model": "higgs-tts-3", "input": TOO_LONG}}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("/v1/audio/speech", "JSON", {"json": speech_json}),
        ("/v1/audio/speech", "multipart", {"files": speech_form}),
        ("/v1/videos", "input_tts", {"json": tts}),
        ("/v1/videos/stream", "input_tts", {"json": tts}),
    ]
    for path, label, kwargs in cases:
        r = refuse(client, target, path, **kwargs)
        ok = r.status_code == 400 and error_type(r) == "input_too_long"
        shown = f"{path} ({label}): {r.status_code} type={error_type(r)}"
        if path != "/v1/audio/speech" or label == "JSON":  # the cases the docs name
            ev.check("BOSON-ERROR-INPUT-TOO-LONG", ok, shown)
        ev.check("BOSON-ERROR-TYPES", ok, shown)
        problem = envelope_problem(r)
        ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"{path} ({label}): {problem or 'ok'}")


@pytest.mark.clause("BOSON-ERROR-TTS-STREAM-REJECTED", "BOSON-ERROR-ENVELOPE")
def test_nested_tts_stream_rejected(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/videos with a real face and an input_tts that sets stream.
    Requirement: MUST answer 400 (the nested stream field is not supported).
    """
    body = {"ref_image": face(), "input_tts": {"input": "Hello.", "stream": True, "response_format": "pcm"}}
    r = refuse(client, target, "/v1/videos", json=body)
    ev.check("BOSON-ERROR-TTS-STREAM-REJECTED", r.status_code == 400, f"answered {r.status_code}")
    problem = envelope_problem(r)
    ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"400 body: {problem or 'ok'}")


@pytest.mark.clause("BOSON-VOICES-LIST", "BOSON-REQUEST-ID")
def test_voices_list(client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/audio/voices.
    Requirement: MUST answer {object: list, data: [{voice: str}]}; SHOULD carry a request id header.
    """
    r = client.get("/v1/audio/voices")
    body: Any = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    ok = (
        r.status_code == 200
        and isinstance(body, dict)
        and body.get("object") == "list"
        and isinstance(body.get("data"), list)
        and len(body["data"]) > 0
        and all(isinstance(v, dict) and isinstance(v.get("voice"), str) for v in body["data"])
    )
    ev.check("BOSON-VOICES-LIST", ok, f"{r.status_code} {str(body)[:160]}")
    rid = request_id(r)
    ev.check(
        "BOSON-REQUEST-ID",
        bool(rid) and re.fullmatch(r"[\x21-\x7e]{1,200}", rid or "") is not None,
        f"request id header: {rid!r}",
    )
    r404 = client.get(f"/v1/videos/{UNKNOWN_ID}")
    ev.check("BOSON-REQUEST-ID", bool(request_id(r404)), f"request id on a 404: {request_id(r404)!r}")


def send_video(client: Client, body: dict[str, Any]) -> httpx.Response:
    """POST /v1/videos through the budget (used by tests that expect success)."""
    return client.create("/v1/videos", json=body)


__all__ = ["envelope_problem", "error_type", "send_video", "video_body"]
