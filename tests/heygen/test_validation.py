"""Every refusal in HeyGen's envelopes: v2 `{"error": {"code", "message"}, "data": null}` (non-2xx),
v1 `{"code": <int>, "data": null, "message"}`; what real clients send is accepted; no input gives a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.heygen.helpers import DAISY, PHOTO, SARA, SMALL, silence_scene
from tests.servers import serve

AVATAR = {"type": "avatar", "avatar_id": DAISY}
TEXT = {"type": "text", "input_text": "Hi.", "voice_id": SARA}


def v2_error(response: httpx.Response, status: int, code: str, message: str | None = None, *mentions: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "data"} and body["data"] is None
    assert set(body["error"]) == {"code", "message"} and body["error"]["code"] == code
    if message is not None:
        assert body["error"]["message"] == message
    for word in mentions:
        assert word in body["error"]["message"], body["error"]["message"]


def scene(**parts: Any) -> dict[str, Any]:
    return {"video_inputs": [{"character": AVATAR, "voice": TEXT, **parts}], "dimension": SMALL}


@pytest.mark.parametrize(
    ("body", "code", "message", "mentions"),
    [
        (
            scene(character={**AVATAR, "avatar_style": "circle", "circle_background_color": "red"}),
            "invalid_parameter",
            "circle_background_color must be in hex format.",
            [],
        ),
        (
            scene(background={"type": "image"}),
            "invalid_parameter",
            "Either url or image_asset_id needs to be provided.",
            [],
        ),
        (
            scene(background={"type": "image", "url": None, "image_asset_id": ""}),
            "invalid_parameter",
            "Either url or image_asset_id needs to be provided.",
            [],
        ),
        (
            scene(voice={"type": "audio"}),
            "invalid_parameter",
            "Either audio_url or audio_asset_id needs to be provided.",
            [],
        ),
        (
            scene(voice={"type": "audio", "audio_url": None}),
            "invalid_parameter",
            "Either audio_url or audio_asset_id needs to be provided.",
            [],
        ),
        (
            scene(background={"type": "video"}),
            "invalid_parameter",
            "Either url or video_asset_id needs to be provided.",
            [],
        ),
        (scene(character={"type": "avatar", "avatar_id": "Nobody_2020"}), "avatar_not_found", None, ["Nobody_2020"]),
        (scene(character={"type": "talking_photo", "talking_photo_id": "f" * 32}), "talking_photo_not_found", None, []),
        (scene(voice={**TEXT, "voice_id": "0" * 32}), "voice_not_found", None, ["0" * 32]),
        (scene(background={"type": "image", "image_asset_id": "a" * 32}), "asset_not_found", None, ["a" * 32]),
        ({"video_inputs": []}, "invalid_parameter", None, ["video_inputs"]),
        ({"video_inputs": [silence_scene()] * 51}, "invalid_parameter", None, ["video_inputs"]),
        ({}, "invalid_parameter", None, ["video_inputs"]),
        (scene(character={**AVATAR, "scale": 5.5}), "invalid_parameter", None, ["scale", "5"]),
        (scene(character={**AVATAR, "scale": -0.1}), "invalid_parameter", None, ["scale"]),
        (
            scene(character={"type": "talking_photo", "talking_photo_id": PHOTO, "scale": 2.5}),
            "invalid_parameter",
            None,
            ["scale", "2"],
        ),
        (scene(voice={**TEXT, "speed": 1.6}), "invalid_parameter", None, ["speed", "1.5"]),
        (scene(voice={**TEXT, "speed": 0.4}), "invalid_parameter", None, ["speed", "0.5"]),
        (scene(voice={**TEXT, "pitch": 51}), "invalid_parameter", None, ["pitch", "50"]),
        (scene(voice={**TEXT, "pitch": -51}), "invalid_parameter", None, ["pitch"]),
        (scene(voice={"type": "silence", "duration": 0.5}), "invalid_parameter", None, ["duration"]),
        (scene(voice={"type": "silence", "duration": 101}), "invalid_parameter", None, ["duration", "100"]),
        ({**scene(), "dimension": {"width": 1281, "height": 720}}, "invalid_parameter", None, ["dimension.width"]),
        ({**scene(), "dimension": {"width": 1280, "height": 126}}, "invalid_parameter", None, ["dimension.height"]),
        ({**scene(), "dimension": {"width": 4098, "height": 720}}, "invalid_parameter", None, ["dimension.width"]),
        (scene(character={"type": "robot"}), "invalid_parameter", None, ["character.type"]),
        (scene(voice={"type": ["text"]}), "invalid_parameter", None, ["type"]),
        (
            scene(avatar_style="nope", character={**AVATAR, "avatar_style": "nope"}),
            "invalid_parameter",
            None,
            ["avatar_style"],
        ),
    ],
)
def test_generate_refusals(hg: httpx.Client, body: dict[str, Any], code: str, message: str | None,
                           mentions: list[str]) -> None:  # fmt: skip
    v2_error(hg.post("/v2/video/generate", json=body), 400, code, message, *mentions)


def test_malformed_bodies_and_auth(hg: httpx.Client, heygen_url: str) -> None:
    as_string = hg.post("/v2/video/generate", content=json.dumps(json.dumps(scene())),
                        headers={"Content-Type": "application/json"})  # fmt: skip
    v2_error(as_string, 400, "invalid_parameter", "Invalid json body")
    v2_error(hg.post("/v2/video/generate", content=b"{oops", headers={"Content-Type": "application/json"}), 400,
             "invalid_parameter", "Invalid json body")  # fmt: skip
    for headers in ({}, {"X-Api-Key": ""}, {"Authorization": "Basic abc"}):
        v2_error(httpx.post(f"{heygen_url}/v2/video/generate", json=scene(), headers=headers), 401, "unauthorized")
    v1 = httpx.get(f"{heygen_url}/v1/video_status.get", params={"video_id": "x"})
    assert v1.status_code == 401 and v1.json() == {"code": 400112, "data": None, "message": v1.json()["message"]}
    for name in ("x-api-key", "X-API-KEY", "X-Api-Key"):
        assert httpx.get(f"{heygen_url}/v2/voices", headers={name: "k"}).status_code == 200
    assert httpx.get(f"{heygen_url}/v2/voices", headers={"Authorization": "Bearer oauth-token"}).status_code == 200
    v2_error(hg.get("/v2/not/a/route"), 404, "not_found")
    missing = hg.get("/v1/video_status.get")
    assert missing.status_code == 400 and missing.json()["code"] == 40001 and "video_id" in missing.json()["message"]


def test_restricted_keys(heygen_factory: Any) -> None:
    with heygen_factory(api_keys=("good",)) as (url, _):
        v2_error(httpx.get(f"{url}/v2/voices", headers={"X-Api-Key": "bad"}), 401, "unauthorized")
        assert httpx.get(f"{url}/v2/voices", headers={"X-Api-Key": "good"}).status_code == 200


def test_what_real_clients_send_is_accepted(hg: httpx.Client) -> None:
    n8n = {"caption": False, "test": True, "title": "", "callback_id": None, "callback_url": None, "folder_id": "",
           "dimension": SMALL, "aspect_ratio": None, "fps": 25, "enable_watermark": False, "caption_mode": None,
           "subtitles": None, "unknown_future_key": {"x": 1},
           "video_inputs": [{"character": {"type": "talking_photo", "talking_photo_id": PHOTO, "scale": 1.0,
                                           "talking_photo_style": "", "offset": {"x": 0, "y": 0},
                                           "talking_style": "stable", "expression": "default"},
                             "voice": {"type": "text", "voice_id": SARA, "input_text": "Hi.", "speed": 1.0},
                             "background": {"type": "color", "value": "#f6f6fc"}},
                            {"character": {**AVATAR, "scale": 1.0, "avatar_style": "normal", "offset": {"x": 0, "y": 0},
                                           "matting": False},
                             "voice": {"type": "silence", "duration": 1.0}}]}  # fmt: skip
    response = hg.post("/v2/video/generate", json=n8n)
    assert response.status_code == 200, response.text
    assert response.json()["error"] is None and len(response.json()["data"]["video_id"]) == 32


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "type",
        "avatar_id",
        "talking_photo_id",
        "voice_id",
        "input_text",
        "scale",
        "offset",
        "url",
        "value",
        "duration",
        "speed",
        "pitch",
        "avatar_style",
        "circle_background_color",
        "audio_url",
        "audio_asset_id",
        "image_asset_id",
        "fit",
        "play_style",
        "text",
        "position",
    ]
)
types = st.sampled_from(["avatar", "talking_photo", "text", "audio", "silence", "color", "image", "video", "x"])
part = st.dictionaries(keys, json_values | types, max_size=5) | st.fixed_dictionaries({"type": types}) | json_values
scene_strategy = st.fixed_dictionaries({}, optional={"character": part, "voice": part, "background": part,
                                                     "text": part})  # fmt: skip
bodies = st.fixed_dictionaries(
    {"video_inputs": st.lists(scene_strategy, max_size=2) | json_values},
    optional={"dimension": json_values | st.fixed_dictionaries({"width": json_values, "height": json_values}),
              "test": json_values, "caption": json_values, "title": json_values, "callback_id": json_values},
) | json_values  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[httpx.Client]:
    """Its own emulator: shutting it down cancels the renders the valid fuzzed bodies started."""
    with serve(create_app(Settings(fetch="off"))) as url, \
            httpx.Client(base_url=url, headers={"X-Api-Key": "k"}, timeout=30) as client:  # fmt: skip
        yield client


clips = st.lists(
    st.dictionaries(
        st.sampled_from(
            [
                "avatar_id",
                "talking_photo_id",
                "input_text",
                "input_audio",
                "voice_id",
                "scale",
                "offset",
                "avatar_style",
            ]
        ),
        json_values | st.just(DAISY) | st.just(SARA),
        max_size=5,
    ),
    max_size=2,
)
v1_bodies = st.fixed_dictionaries(
    {"clips": clips | json_values}, optional={"background": json_values, "ratio": json_values | st.just("9:16")}
)


@settings(max_examples=60, deadline=None)
@given(body=v1_bodies)
def test_fuzzed_v1_generate_bodies_never_get_a_5xx(fuzz_client: httpx.Client, body: Any) -> None:
    response = fuzz_client.post("/v1/video.generate", json=body)
    assert response.status_code in (200, 400), (response.status_code, response.text)
    assert type(response.json()["code"]) is int


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_fuzzed_generate_bodies_never_get_a_5xx(fuzz_client: httpx.Client, body: Any) -> None:
    response = fuzz_client.post("/v2/video/generate", json=body)
    assert response.status_code in (200, 400), (response.status_code, response.text)
    payload = response.json()
    if response.status_code == 400:
        assert set(payload["error"]) == {"code", "message"} and payload["data"] is None
    else:
        assert payload["error"] is None


def test_list_limit_must_be_an_integer_even_when_empty(hg: httpx.Client) -> None:
    for raw in ("", "abc"):
        response = hg.get("/v1/video.list", params={"limit": raw})
        assert response.status_code == 400, (raw, response.text)
        assert "limit" in response.text
    assert hg.get("/v1/video.list", params={"limit": "5", "token": ""}).status_code == 200
