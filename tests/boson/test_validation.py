"""Every malformed request answers 400 (or 401/404) in Boson's envelope, naming the field."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.media import encode_image, make_portrait, speech_like, wav_bytes


def assert_error(response: httpx.Response, status: int, error_type: str, *mentions: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type"}
    assert body["error"]["type"] == error_type
    for word in mentions:
        assert word in body["error"]["message"], body["error"]["message"]


@pytest.mark.parametrize(
    ("change", "error_type", "mentions"),
    [
        ({"colour": "red"}, "invalid_request_error", ["colour"]),
        ({"size": "1920x1080"}, "invalid_request_error", ["size", "640x640"]),
        ({"size": 640}, "invalid_request_error", ["size", "string"]),
        ({"model": "sora-2"}, "invalid_request_error", ["model"]),
        ({"input_tts": {"input": "hello"}}, "invalid_request_error", ["input", "input_tts"]),
        ({"input": None}, "invalid_request_error", ["input", "input_tts"]),
        ({"input": None, "input_tts": {"input": "hi", "stream": True}}, "invalid_request_error", ["input_tts.stream"]),
        ({"input": None, "input_tts": {"input": "x" * 5001}}, "input_too_long", ["input_tts.input", "5000"]),
        ({"input": None, "input_tts": {"input": " \n "}}, "empty_input", ["empty or only whitespace"]),
        ({"input": None, "input_tts": {"input": "hi", "speed": 2}}, "invalid_request_error", ["input_tts.speed"]),
        ({"input": None, "input_tts": {"input": "hi", "voice": "nobody"}}, "voice_not_found", ["input_tts.voice"]),
        ({"ref_image": "not base64 at all!"}, "invalid_request_error", ["ref_image"]),
        ({"ref_image": "data:image/png,abc"}, "invalid_request_error", ["ref_image", "base64"]),
        ({"ref_image": "data:image/png;base64"}, "invalid_request_error", ["ref_image", "data URI"]),
        ({"input": "@@@@"}, "invalid_request_error", ["input"]),
    ],
)
def test_create_rejects_bad_bodies(
    client: httpx.Client, face_data_uri: str, speech_data_uri: str,
    change: dict[str, Any], error_type: str, mentions: list[str],
) -> None:
    body = {"ref_image": face_data_uri, "input": speech_data_uri, **change}
    for path in ("/v1/videos", "/v1/videos/stream"):
        assert_error(client.post(path, json=body), 400, error_type, *mentions)


def test_undecodable_and_unsupported_media(client: httpx.Client, face_data_uri: str, speech_data_uri: str) -> None:
    gif = encode_image(make_portrait(64, 64).rgb, "GIF")
    garbage = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode()
    cases = [
        ({"ref_image": base64.b64encode(gif).decode()}, "invalid_image_format", "ref_image"),
        ({"ref_image": garbage}, "invalid_image_format", "ref_image"),
        ({"input": base64.b64encode(b"hello, I am text not audio" * 20).decode()}, "invalid_audio_format", "input"),
        ({"input": "data:audio/wav;base64," + base64.b64encode(encode_image(make_portrait(64, 64).rgb)).decode()},
         "invalid_audio_format", "input"),
    ]
    for change, error_type, field in cases:
        body = {"ref_image": face_data_uri, "input": speech_data_uri, **change}
        assert_error(client.post("/v1/videos", json=body), 400, error_type, field)


def test_audio_over_60_seconds_is_refused(client: httpx.Client, face_data_uri: str) -> None:
    long_wav = wav_bytes(speech_like(61.0))
    body = {"ref_image": face_data_uri, "input": base64.b64encode(long_wav).decode()}
    assert_error(client.post("/v1/videos", json=body), 400, "audio_too_long", "input", "60")


def test_inline_payload_over_10_mb_is_refused(client: httpx.Client, face_data_uri: str) -> None:
    big = "A" * (14 * 1024 * 1024)
    body = {"ref_image": face_data_uri, "input": "data:audio/wav;base64," + big}
    assert_error(client.post("/v1/videos", json=body), 400, "payload_too_large", "input", "10 MB")


def test_malformed_json_and_content_types(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    assert_error(client.post("/v1/videos", content=b"{not json", headers=headers), 400, "invalid_request_error", "JSON")
    assert_error(client.post("/v1/videos", content=b"[1, 2]", headers=headers), 400, "invalid_request_error", "object")
    assert_error(client.post("/v1/videos", content=b"", headers=headers), 400, "invalid_request_error", "empty")
    assert_error(client.post("/v1/videos", content=b"\xff\xfe", headers=headers), 400, "invalid_request_error", "UTF-8")
    text = {"Content-Type": "text/plain"}
    assert_error(client.post("/v1/videos", content=b"hi", headers=text), 400, "invalid_request_error", "Content-Type")
    no_boundary = {"Content-Type": "multipart/form-data"}
    assert_error(client.post("/v1/videos", content=b"x", headers=no_boundary), 400, "invalid_request_error", "boundary")


def test_multipart_rejects_unknown_fields_and_bad_json(client: httpx.Client, face_png: bytes) -> None:
    files = {"ref_image": ("face.png", face_png, "image/png")}
    unknown = client.post("/v1/videos", files=files, data={"input_tts": '{"input": "hi"}', "prompt": "x"})
    assert_error(unknown, 400, "invalid_request_error", "prompt")
    bad_json = client.post("/v1/videos", files=files, data={"input_tts": "{oops"})
    assert_error(bad_json, 400, "invalid_request_error", "input_tts", "JSON")


def test_auth(boson_url: str, emulator_factory: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        assert_error(httpx.get(f"{boson_url}/v1/videos/video_x", headers=headers), 401, "invalid_api_key")
    with emulator_factory(api_keys=("bai-good",)) as url:
        bad = httpx.get(f"{url}/v1/audio/voices", headers={"Authorization": "Bearer bai-bad"})
        assert_error(bad, 401, "invalid_api_key", "Invalid")
        good = httpx.get(f"{url}/v1/audio/voices", headers={"Authorization": "Bearer bai-good"})
        assert good.status_code == 200


def test_unknown_video_and_variant(client: httpx.Client) -> None:
    assert_error(client.get("/v1/videos/video_000000000000000000000000"), 404, "not_found", "video_0000")
    assert_error(client.get("/v1/videos/video_x/content?variant=thumbnail"), 400, "invalid_variant", "thumbnail")
    assert_error(client.get("/v1/nothing/here"), 404, "not_found")
    assert_error(client.delete("/v1/videos/video_x"), 405, "method_not_allowed")
