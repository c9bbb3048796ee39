"""POST /v1/audio/speech and GET /v1/audio/voices."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.responses import Response, StreamingResponse

from reference_engine.audio_formats import AUDIO_FORMATS
from reference_engine.tts import PRESET_VOICES

from ...core.tenants import Tenant
from ...core.workers import CrashPlan, TaskFailed, WorkerDied, WorkerPool
from ...http.bodies import read_body
from ...http.errors import ApiError
from ...http.probes import crash_plan
from ...http.responses import JSONResponse
from ...http.routing import Call
from .inputs import load_audio
from .tasks import SpeechSpec, speech_file, speech_pcm

log = logging.getLogger("avatar_emulator")

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
    call: Call, values: dict[str, Any], *, field: str = "", uploads: dict[str, bytes] | None = None
) -> SpeechSpec:
    """Check a CreateSpeechRequest beyond its schema and decode its reference audio (in a worker)."""
    prefix = f"{field}." if field else ""
    text = str(values["input"])  # the spec refuses empty and whitespace-only text (empty_input)
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
    voices = known_voices(call.tenant)
    if voice is not None and voice not in voices:
        raise ApiError(
            400,
            "voice_not_found",
            f"Unknown voice {voice!r} in '{prefix}voice': use one of {', '.join(voices)}.",
            field=f"{prefix}voice",
        )
    ref_audio = None
    if has_ref:
        ref_audio = str((await load_audio(call, ref_audio_value, upload, f"{prefix}ref_audio")).path)
    return SpeechSpec(text=text, voice=str(voice or "default"), ref_audio=ref_audio)


async def create_speech(call: Call) -> Response:
    body = await read_body(call.request, call.op, default_code=call.provider.default_error_code)
    values = body.values
    stream = values.get("stream") in (True, "true")
    fmt = str(values.get("response_format") or "mp3")
    if stream and fmt != "pcm":
        raise ApiError(
            400, "invalid_request_error", f"'stream' requires response_format 'pcm', not {fmt!r}.", field="stream"
        )
    spec = await speech_params(call, values, uploads=body.files)
    inputs = [Path(spec.ref_audio)] if spec.ref_audio else []
    seed = call.emulator.settings.seed
    pool = call.emulator.workers.probe
    crash = crash_plan(call, "render")
    if stream:
        return StreamingResponse(_pcm_stream(pool, spec, seed, crash, inputs), media_type=AUDIO_FORMATS[fmt])
    target = call.emulator.store.scratch(call.tenant.name, f".{fmt}")
    try:
        await pool.run(speech_file, spec, seed, fmt, str(target), crash=crash)
        data = target.read_bytes()
    except (TaskFailed, WorkerDied) as exc:
        raise ApiError(500, "internal_error", f"The speech could not be synthesized: {exc}") from None
    finally:
        target.unlink(missing_ok=True)
        for path in inputs:
            path.unlink(missing_ok=True)
    return Response(data, media_type=AUDIO_FORMATS[fmt])


async def _pcm_stream(pool: WorkerPool, spec: SpeechSpec, seed: int, crash: CrashPlan | None,
                      inputs: list[Path]) -> AsyncIterator[bytes]:
    """PCM chunks as the worker synthesizes them; a worker that dies ends the stream early."""
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            await pool.run(speech_pcm, spec, seed, crash=crash, on_event=lambda event: chunks.put_nowait(event["pcm"]))
        except (TaskFailed, WorkerDied) as exc:
            log.warning("speech stream ended early: its worker failed: %s", exc)
        finally:
            chunks.put_nowait(None)

    producer = asyncio.ensure_future(produce())
    try:
        while (chunk := await chunks.get()) is not None:
            yield chunk
    finally:
        producer.cancel()
        for path in inputs:
            path.unlink(missing_ok=True)


async def list_voices(call: Call) -> Response:
    data = [{"voice": v, "description": VOICE_DESCRIPTIONS.get(v), "created_at": None} for v in PRESET_VOICES]
    for item in seeded_voices(call.tenant):
        data.append(
            {"voice": item["voice"], "description": item.get("description"), "created_at": item.get("created_at")}
        )
    return JSONResponse({"object": "list", "data": data})
