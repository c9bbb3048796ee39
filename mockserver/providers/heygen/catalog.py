"""The built-in catalog: avatars, talking photos and voices with stable ids, and their previews.

Ids that appear in HeyGen's own examples (`Daisy-inskirt-20220818`, voice
`1bd001e7e50f421d891986aad5158bc8`, ...) are included so copied examples work unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import Response

from ...core.workers import TaskFailed, WorkerDied
from ...http.errors import ApiError
from ...http.routing import Call
from . import envelopes
from .portraits import Look
from .state import state_of
from .tasks import avatar_preview, portrait_png, voice_preview

CATALOG_PREFIX = "/heygen/catalog"


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    language: str
    gender: str
    engine_voice: str  # the reference engine's preset used to speak it


@dataclass(frozen=True)
class Avatar:
    avatar_id: str
    name: str
    gender: str
    look: Look
    default_voice_id: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TalkingPhoto:
    talking_photo_id: str
    name: str
    look: Look


VOICES = (
    Voice("1bd001e7e50f421d891986aad5158bc8", "Sara - Cheerful", "English", "female", "nora"),
    Voice("2d5b0e6cf36f460aa7fc47e3eee4ba54", "Rachel - Professional", "English", "female", "chloe"),
    Voice("131a436c47064f708210df6628ef8f32", "Amber - Friendly", "English", "female", "eleanor"),
    Voice("077ab11b14f04ce0b49b5f6e5cc20979", "Paul - Natural", "English", "male", "marcus"),
    Voice("d92994ae0de34b2e8659b5d2ce7ec3d8", "Mark - Calm", "English", "male", "oliver"),
    Voice("f8c69e517f424cafaecde32dde57096b", "Jake - Casual", "English", "male", "jake"),
    Voice("5e9b2b1b6f1a4c3e8d7a0b2c4e6f8a10", "Clara - Neutral", "Multilingual", "female", "default"),
)

_SKIN = ((224, 172, 140), (198, 134, 96), (141, 85, 60), (241, 194, 160))
AVATARS = (
    Avatar("Daisy-inskirt-20220818", "Daisy in Skirt", "female",
           Look(_SKIN[0], (120, 80, 40), (170, 60, 90), long_hair=True), VOICES[0].voice_id, ("AVATAR_IV",)),
    Avatar("Angela-inTshirt-20220820", "Angela in T-shirt", "female",
           Look(_SKIN[3], (60, 40, 30), (230, 230, 235), long_hair=True), VOICES[1].voice_id),
    Avatar("Abigail_expressive_2024112501", "Abigail (Upper Body)", "female",
           Look(_SKIN[2], (30, 25, 20), (40, 110, 90), long_hair=True), VOICES[2].voice_id, ("AVATAR_IV",)),
    Avatar("josh_lite3_20230714", "Josh", "male",
           Look(_SKIN[1], (40, 30, 25), (40, 60, 120)), VOICES[3].voice_id),
    Avatar("Tyler-incasualsuit-20220721", "Tyler in Casual Suit", "male",
           Look(_SKIN[0], (90, 60, 30), (70, 70, 80)), VOICES[4].voice_id),
    Avatar("Anna_public_3_20240108", "Anna", "female",
           Look(_SKIN[1], (20, 20, 20), (200, 120, 40), long_hair=True), VOICES[6].voice_id),
)  # fmt: skip

TALKING_PHOTOS = (
    TalkingPhoto("8a2d7e4f1c9b4d3e8f6a5b4c3d2e1f00", "Studio portrait", Look(_SKIN[0], (60, 45, 30), (60, 90, 140))),
    TalkingPhoto("3f9c1a7b5e2d4c6a9b8e7d6c5b4a3f21", "Office portrait", Look(_SKIN[2], (25, 20, 15), (150, 40, 40),
                                                                           backdrop=(180, 200, 190))),
)  # fmt: skip

VOICE_BY_ID = {v.voice_id: v for v in VOICES}
AVATAR_BY_ID = {a.avatar_id: a for a in AVATARS}
PHOTO_BY_ID = {p.talking_photo_id: p for p in TALKING_PHOTOS}


def base_url(call: Call) -> str:
    configured = call.emulator.settings.public_url
    return (configured or str(call.request.base_url)).rstrip("/")


def _avatar_json(avatar: Avatar, base: str) -> dict[str, Any]:
    return {
        "avatar_id": avatar.avatar_id,
        "avatar_name": avatar.name,
        "gender": avatar.gender,
        "preview_image_url": f"{base}{CATALOG_PREFIX}/avatars/{avatar.avatar_id}.png",
        "preview_video_url": f"{base}{CATALOG_PREFIX}/avatars/{avatar.avatar_id}.mp4",
        "premium": False,
        "type": None,
        "tags": list(avatar.tags),
        "default_voice_id": avatar.default_voice_id,
    }


async def list_avatars(call: Call) -> Response:
    base = base_url(call)
    photos = [
        {"talking_photo_id": p.talking_photo_id, "talking_photo_name": p.name,
         "preview_image_url": f"{base}{CATALOG_PREFIX}/photos/{p.talking_photo_id}.png"}
        for p in TALKING_PHOTOS
    ]  # fmt: skip
    for asset in state_of(call.tenant).assets.values():
        if asset.kind == "image":
            photos.append({"talking_photo_id": asset.id, "talking_photo_name": asset.name,
                           "preview_image_url": f"{base}{asset_path(call, asset.id, asset.path.suffix)}"})  # fmt: skip
    return envelopes.v2({"avatars": [_avatar_json(a, base) for a in AVATARS], "talking_photos": photos})


def asset_path(call: Call, asset_id: str, suffix: str) -> str:
    from .state import tenant_token

    return f"/heygen/assets/{tenant_token(call.tenant.name)}/{asset_id}{suffix}"


async def avatar_details(call: Call) -> Response:
    avatar_id = call.request.path_params["avatar_id"]
    avatar = AVATAR_BY_ID.get(avatar_id)
    if avatar is None:
        raise ApiError(404, "avatar_not_found", f"Avatar {avatar_id} not found.", field="avatar_id")
    item = _avatar_json(avatar, base_url(call))
    return envelopes.v2({
        "type": "avatar", "id": avatar.avatar_id, "name": avatar.name, "gender": avatar.gender,
        "preview_image_url": item["preview_image_url"], "preview_video_url": item["preview_video_url"],
        "premium": False, "is_public": True, "default_voice_id": avatar.default_voice_id, "tags": list(avatar.tags),
    })  # fmt: skip


async def list_voices(call: Call) -> Response:
    base = base_url(call)
    voices = [
        {"voice_id": v.voice_id, "language": v.language, "gender": v.gender, "name": v.name,
         "preview_audio": f"{base}{CATALOG_PREFIX}/voices/{v.voice_id}.mp3", "support_pause": True,
         "emotion_support": False, "support_interactive_avatar": False, "support_locale": False}
        for v in VOICES
    ]  # fmt: skip
    return envelopes.v2({"voices": voices})


async def _voice_preview(call: Call, voice: Voice) -> bytes:
    path = call.emulator.store.path("_catalog", voice.voice_id, ".mp3")
    if not path.exists():
        await _made_by_worker(call, path, voice_preview, f"Hello, I am {voice.name.split(' ')[0]}.",
                              voice.engine_voice)
    return path.read_bytes()


async def _avatar_preview_video(call: Call, avatar: Avatar) -> bytes:
    path = call.emulator.store.path("_catalog", avatar.avatar_id, ".mp4")
    if not path.exists():
        voice = VOICE_BY_ID[avatar.default_voice_id]
        await _made_by_worker(call, path, avatar_preview, avatar.look, f"Hi, I am {avatar.name.split(' ')[0]}.",
                              voice.engine_voice)
    return path.read_bytes()


async def _portrait_png(call: Call, stem: str, kind: str, look: Look) -> bytes:
    path = call.emulator.store.path("_catalog", stem, ".png")
    if not path.exists():
        await _made_by_worker(call, path, portrait_png, kind, look)
    return path.read_bytes()


async def _made_by_worker(call: Call, path: Path, task: Callable[..., None], *args: Any) -> None:
    """Have a probe worker write `path` (through a temporary name: concurrent first requests)."""
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.part{path.suffix}")
    try:
        await call.emulator.workers.probe.run(task, *args, str(tmp))
        tmp.replace(path)
    except (TaskFailed, WorkerDied) as exc:
        raise ApiError(500, "internal_error", f"The catalog preview could not be made: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


async def catalog_file(call: Call) -> Response:
    """Preview images, videos and voice samples of the built-in catalog (no key needed)."""
    kind, name = call.request.path_params["kind"], call.request.path_params["file"]
    stem, _, ext = name.rpartition(".")
    if kind == "avatars" and stem in AVATAR_BY_ID and ext == "png":
        return Response(await _portrait_png(call, stem, "avatar", AVATAR_BY_ID[stem].look), media_type="image/png")
    if kind == "avatars" and stem in AVATAR_BY_ID and ext == "mp4":
        return Response(await _avatar_preview_video(call, AVATAR_BY_ID[stem]), media_type="video/mp4")
    if kind == "photos" and stem in PHOTO_BY_ID and ext == "png":
        return Response(await _portrait_png(call, stem, "talking_photo", PHOTO_BY_ID[stem].look),
                        media_type="image/png")
    if kind == "voices" and stem in VOICE_BY_ID and ext == "mp3":
        return Response(await _voice_preview(call, VOICE_BY_ID[stem]), media_type="audio/mpeg")
    raise ApiError(404, "not_found", f"No catalog file {kind}/{name}.")
