"""POST /v1/video.generate (deprecated): `ratio`, a `background` string and `clips[]` mapped onto
the same plan as v2 (one scene per clip). Answers in the v1 envelope."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from reference_engine.compose import parse_hex_color

from ...http.errors import ApiError
from ...http.routing import Call
from . import envelopes
from .generate import DEFAULT_BACKGROUND, character_plan, voice_plan
from .inputs import read_json_body
from .lifecycle import start_video
from .plan import BackgroundPlan, MediaRef, ScenePlan, VideoPlan

RATIOS = {"16:9": (1280, 720), "9:16": (720, 1280)}
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")


def legacy_background(value: str | None) -> BackgroundPlan:
    """`#RRGGBB` is a colour; an URL ending in .mp4/.webm/.mov is a looping video; other URLs are images."""
    if not value:
        return BackgroundPlan(color=parse_hex_color(DEFAULT_BACKGROUND))
    if value.startswith("#"):
        return BackgroundPlan(color=parse_hex_color(value))
    if urlsplit(value).path.lower().endswith(VIDEO_SUFFIXES):
        return BackgroundPlan("video", media=MediaRef("background", "video", url=value), play_style="loop")
    return BackgroundPlan("image", media=MediaRef("background", "image", url=value), fit="cover")


def _clip_scene(call: Call, clip: dict[str, Any], prefix: str, background: BackgroundPlan) -> ScenePlan:
    if clip.get("talking_photo_id"):
        character = {"type": "talking_photo", "talking_photo_id": clip["talking_photo_id"],
                     "talking_photo_style": clip.get("talking_photo_style"), "scale": clip.get("scale"),
                     "offset": clip.get("offset")}  # fmt: skip
    else:
        if not clip.get("avatar_id"):
            raise ApiError(400, "missing_params", f"'{prefix}.avatar_id' or '{prefix}.talking_photo_id' is required.",
                           field=f"{prefix}.avatar_id")
        character = {"type": "avatar", "avatar_id": clip["avatar_id"], "avatar_style": clip.get("avatar_style"),
                     "scale": clip.get("scale"), "offset": clip.get("offset")}  # fmt: skip
    if clip.get("input_text"):
        if not clip.get("voice_id"):
            raise ApiError(
                400, "missing_params", "'voice_id' is required with 'input_text'.", field=f"{prefix}.voice_id"
            )
        voice = {"type": "text", "input_text": clip["input_text"], "voice_id": clip["voice_id"]}
    else:
        voice = {"type": "audio", "audio_url": clip.get("input_audio")}
    return ScenePlan(
        voice=voice_plan(call, voice, prefix),
        character=character_plan(call, character, prefix),
        background=background,
    )


async def generate_v1(call: Call) -> Response:
    body = await read_json_body(call)
    width, height = RATIOS[str(body.get("ratio") or "16:9")]
    background = legacy_background(body.get("background"))
    scenes = []
    for i, clip in enumerate(body["clips"]):
        ref = background.media
        scene_bg = background if ref is None else BackgroundPlan(
            background.kind, background.color, MediaRef(ref.field, ref.kind, url=ref.url), background.fit,
            background.play_style)  # fmt: skip
        scenes.append(_clip_scene(call, clip, f"clips[{i}]", scene_bg))
    test = bool(body.get("test"))
    plan = VideoPlan(scenes, width, height, test=test, watermark=test, caption_file=bool(body.get("caption_open")),
                     caption_video=bool(body.get("caption_open")), title=body.get("title"),
                     callback_id=body.get("callback_id"))  # fmt: skip
    video = start_video(call, plan, legacy=True)
    return envelopes.v1({"video_id": video.id})
