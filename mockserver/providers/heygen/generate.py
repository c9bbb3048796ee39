"""POST /v2/video/generate: validate the body (schema first, then the rules a schema cannot say),
resolve catalog ids and asset ids, and start the video.

Explicit checks here (documented in openapi/heygen.yaml): an `url`/`*_asset_id` pair given only as
null or "" counts as missing; avatar, talking photo, voice and asset ids must exist.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from reference_engine.compose import parse_hex_color
from reference_engine.scenes import TextOverlay

from ...http.errors import ApiError
from ...http.routing import Call
from . import envelopes
from .assets import asset_path_of
from .catalog import AVATAR_BY_ID, PHOTO_BY_ID, VOICE_BY_ID
from .inputs import read_json_body
from .lifecycle import start_video
from .plan import BackgroundPlan, CharacterPlan, MediaRef, ScenePlan, VideoPlan, VoicePlan
from .state import state_of

DEFAULT_BACKGROUND = "#FFFFFF"


def _given(values: dict[str, Any], key: str) -> Any:
    value = values.get(key)
    return None if value in (None, "") else value


def media_ref(call: Call, values: dict[str, Any], prefix: str, url_key: str, asset_key: str, kind: str,
              message: str) -> MediaRef:  # fmt: skip
    url, asset_id = _given(values, url_key), _given(values, asset_key)
    if url is None and asset_id is None:
        raise ApiError(400, "invalid_parameter", message, field=f"{prefix}.{url_key}")
    if asset_id is not None:
        field = f"{prefix}.{asset_key}"
        return MediaRef(field, kind, path=str(asset_path_of(call, str(asset_id), kind, field)))
    return MediaRef(f"{prefix}.{url_key}", kind, url=str(url))


def _offset(values: dict[str, Any]) -> tuple[float, float]:
    offset = values.get("offset") or {}
    return float(offset.get("x") or 0.0), float(offset.get("y") or 0.0)


def character_plan(call: Call, values: dict[str, Any] | None, prefix: str) -> CharacterPlan | None:
    if not values:
        return None
    scale = float(values["scale"]) if values.get("scale") is not None else 1.0
    if values["type"] == "avatar":
        avatar_id = str(values["avatar_id"])
        avatar = AVATAR_BY_ID.get(avatar_id)
        if avatar is None:
            raise ApiError(400, "avatar_not_found", f"Avatar {avatar_id} not found or no longer available.",
                           field=f"{prefix}.avatar_id")  # fmt: skip
        color = _given(values, "circle_background_color")
        return CharacterPlan(
            "avatar",
            look=avatar.look,
            style=str(values.get("avatar_style") or "normal"),
            scale=scale,
            offset=_offset(values),
            circle_color=parse_hex_color(color) if color else (255, 255, 255),
        )
    photo_id = str(values["talking_photo_id"])
    style = str(values.get("talking_photo_style") or "normal")
    photo = PHOTO_BY_ID.get(photo_id)
    plan = CharacterPlan("talking_photo", look=photo.look if photo else None, style=style, scale=scale,
                         offset=_offset(values))
    if photo is None:
        asset = state_of(call.tenant).assets.get(photo_id)
        if asset is None or asset.kind != "image":
            raise ApiError(400, "talking_photo_not_found", f"Talking photo {photo_id} not found.",
                           field=f"{prefix}.talking_photo_id")  # fmt: skip
        plan.photo = MediaRef(f"{prefix}.talking_photo_id", "image", path=str(asset.path))
    return plan


def voice_plan(call: Call, values: dict[str, Any], prefix: str) -> VoicePlan:
    kind = values["type"]
    if kind == "text":
        voice_id = str(values["voice_id"])
        voice = VOICE_BY_ID.get(voice_id)
        if voice is None:
            raise ApiError(400, "voice_not_found", f"Voice {voice_id} not found.", field=f"{prefix}.voice_id")
        speed = values.get("speed")
        pitch = values.get("pitch")
        return VoicePlan(
            "text",
            text=str(values["input_text"]),
            engine_voice=voice.engine_voice,
            speed=1.0 if speed is None else float(speed),
            pitch=0.0 if pitch is None else float(pitch),
        )
    if kind == "audio":
        ref = media_ref(call, values, prefix, "audio_url", "audio_asset_id", "audio",
                        "Either audio_url or audio_asset_id needs to be provided.")  # fmt: skip
        return VoicePlan("audio", audio=ref)
    duration = values.get("duration")
    return VoicePlan("silence", seconds=1.0 if duration is None else float(duration))


def background_plan(call: Call, values: dict[str, Any] | None, prefix: str) -> BackgroundPlan:
    if not values:
        return BackgroundPlan(color=parse_hex_color(DEFAULT_BACKGROUND))
    kind = values["type"]
    fit = str(values.get("fit") or "cover")
    if kind == "color":
        return BackgroundPlan("color", color=parse_hex_color(str(values.get("value") or DEFAULT_BACKGROUND)))
    if kind == "image":
        ref = media_ref(call, values, prefix, "url", "image_asset_id", "image",
                        "Either url or image_asset_id needs to be provided.")  # fmt: skip
        return BackgroundPlan("image", media=ref, fit=fit)
    ref = media_ref(call, values, prefix, "url", "video_asset_id", "video",
                    "Either url or video_asset_id needs to be provided.")  # fmt: skip
    play = str(values.get("play_style") or "fit_to_scene")
    return BackgroundPlan("video", media=ref, fit=fit, play_style="once" if play == "full_video" else play)


def text_overlay(values: dict[str, Any] | None) -> TextOverlay | None:
    if not values or not str(values.get("text") or "").strip():
        return None
    position = values.get("position") or {}
    color = _given(values, "color")
    return TextOverlay(
        text=str(values["text"]),
        size=int(values.get("font_size") or 48),
        color=parse_hex_color(color) if color else (255, 255, 255),
        x=float(position.get("x", 0.5) if position.get("x") is not None else 0.5),
        y=float(position.get("y", 0.1) if position.get("y") is not None else 0.1),
        align=str(values.get("text_align") or "center"),
    )


def video_plan(call: Call, body: dict[str, Any]) -> VideoPlan:
    scenes: list[ScenePlan] = []
    for i, scene in enumerate(body["video_inputs"]):
        prefix = f"video_inputs[{i}]"
        scenes.append(ScenePlan(
            voice=voice_plan(call, scene["voice"], f"{prefix}.voice"),
            character=character_plan(call, scene.get("character"), f"{prefix}.character"),
            background=background_plan(call, scene.get("background"), f"{prefix}.background"),
            text=text_overlay(scene.get("text")),
        ))  # fmt: skip
    dimension = body.get("dimension") or {}
    caption = bool(body.get("caption"))
    mode = body.get("caption_mode")
    test = bool(body.get("test"))
    return VideoPlan(
        scenes,
        width=int(dimension.get("width") or 1280),
        height=int(dimension.get("height") or 720),
        test=test,
        watermark=test or bool(body.get("enable_watermark")),
        caption_file=caption or mode in ("file_only", "burn_in"),
        caption_video=(caption and mode != "file_only") or mode == "burn_in",
        title=body.get("title"),
        callback_id=body.get("callback_id"),
        callback_url=_given(body, "callback_url"),
    )


async def generate_v2(call: Call) -> Response:
    body = await read_json_body(call)
    plan = video_plan(call, body)
    video = start_video(call, plan)
    return envelopes.v2({"video_id": video.id})
