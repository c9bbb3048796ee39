"""POST /v1/audio/speech and GET /v1/audio/voices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import JSONResponse, Response, StreamingResponse

from reference_engine.audio_formats import AUDIO_FORMATS, encode_audio, pcm_s16le
from reference_engine.tts import PRESET_VOICES, synthesize, synthesize_chunks

from ...core.settings import FetchPolicy
from ...core.tenants import Tenant
from ...http.bodies import read_body
from ...http.errors import ApiError
from ...http.routing import Call
from .inputs import load_audio
from .render import SpeechParams

VOICE_DESCRIPTIONS = {
    "default": "Neutral default voice.",
    "chloe": "Bright female voice.",
    "eleanor": "Calm female voice.",
    "jake": "Casual male voice.",
    "marcus": "Deep male voice.",
    "nora": "Warm female voice.",
    "oliver": "Clear male voice.",
}


def seeded_voices(tenant: Tenant) -> list[dict[str, Any]]:
    """Voices a test seeded with POST /_emulator/state ({"provider": "boson", "voice": ID, ...})."""
    return [item for item in tenant.seeded.items("boson", "voices") if isinstance(item.get("voice"), str)]


def known_voices(tenant: Tenant) -> list[str]:
    return [*PRESET_VOICES, *(item["voice"] for item in seeded_voices(tenant))]


async def speech_params(
    values: dict[str, Any],
    policy: FetchPolicy,
    tenant: Tenant,
    *,
    field: str = "",
    uploads: dict[str, bytes] | None = None,
) -> SpeechParams:
    """Check a CreateSpeechRequest beyond its schema and load its reference audio."""
    prefix = f"{field}." if field else ""
    voice = values.get("voice")
    ref_audio_value = values.get("ref_audio")
    upload = (uploads or {}).get("ref_audio")
    has_ref = ref_audio_value is not None or upload is not None
    if voice is not None and (has_ref or values.get("ref_text") is not None):
        raise ApiError(
            400,
            "invalid_request_error",
            f"'{prefix}voice' and '{prefix}ref_audio'/'{prefix}ref_text' are mutually exclusive.",
            field=f"{prefix}voice",
        )
    voices = known_voices(tenant)
    if voice is not None and voice not in voices:
        raise ApiError(
            400,
            "voice_not_found",
            f"Unknown voice {voice!r} in '{prefix}voice': use one of {', '.join(voices)}.",
            field=f"{prefix}voice",
        )
    ref_audio = None
    if has_ref:
        ref_audio = await load_audio(ref_audio_value, upload, policy, f"{prefix}ref_audio")
    return SpeechParams(text=str(values["input"]), voice=str(voice or "default"), ref_audio=ref_audio)


async def create_speech(call: Call) -> Response:
    body = await read_body(call.request, call.op, default_code=call.provider.default_error_code)
    values = body.values
    stream = values.get("stream") in (True, "true")
    fmt = str(values.get("response_format") or "mp3")
    if stream and fmt != "pcm":
        raise ApiError(
            400, "invalid_request_error", f"'stream' requires response_format 'pcm', not {fmt!r}.", field="stream"
        )
    params = await speech_params(values, call.emulator.settings.fetch, call.tenant, uploads=body.files)
    seed = call.emulator.settings.seed
    media_type = AUDIO_FORMATS[fmt]
    if stream:

        def chunks() -> Iterator[bytes]:
            for piece in synthesize_chunks(params.text, params.voice, seed=seed, ref_audio=params.ref_audio):
                yield pcm_s16le(piece)

        return StreamingResponse(iterate_in_threadpool(chunks()), media_type=media_type)

    def render() -> bytes:
        samples: np.ndarray = synthesize(params.text, params.voice, seed=seed, ref_audio=params.ref_audio)
        return encode_audio(samples, fmt)

    return Response(await run_in_threadpool(render), media_type=media_type)


async def list_voices(call: Call) -> Response:
    data = [{"voice": v, "description": VOICE_DESCRIPTIONS.get(v), "created_at": None} for v in PRESET_VOICES]
    for item in seeded_voices(call.tenant):
        data.append(
            {"voice": item["voice"], "description": item.get("description"), "created_at": item.get("created_at")}
        )
    return JSONResponse({"object": "list", "data": data})
