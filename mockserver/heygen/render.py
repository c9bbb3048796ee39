"""The work of a HeyGen video job (in a worker thread): decode the fetched inputs, speak the text
voices, compose the scenes with the reference engine and store the MP4, captions and previews.

Input problems found here end the video `failed` with HeyGen's numeric error codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reference_engine import FPS, SAMPLE_RATE
from reference_engine.audio import decode_audio
from reference_engine.captions import to_ass
from reference_engine.errors import MediaError
from reference_engine.image import decode_image
from reference_engine.layout import Character
from reference_engine.scenes import (
    Background,
    Outputs,
    Production,
    RenderCancelled,
    Scene,
    probe_video_seconds,
    render_production,
)
from reference_engine.tts import synthesize

from ..jobs import JobContext, RenderFailure, Work
from .plan import CharacterPlan, MediaRef, ScenePlan, VideoPlan
from .state import Video, VideoError

if TYPE_CHECKING:
    from ..tenants import Tenant

MAX_TEXT_CHARS = 5000
MAX_AUDIO_SECONDS = 600.0
MAX_VIDEO_SECONDS = 3600.0


class Refused(Exception):
    def __init__(self, code: int, message: str, detail: str) -> None:
        super().__init__(detail)
        self.error = VideoError(code, message, detail)


def _data(ref: MediaRef) -> bytes:
    if ref.data is None:
        raise Refused(40065, "Invalid video infos", f"{ref.field}: the input was not fetched")
    return ref.data


def _image(ref: MediaRef) -> np.ndarray:
    try:
        return decode_image(_data(ref))
    except MediaError as exc:
        raise Refused(40002, "Image format not supported", f"{ref.field}: {exc.message}") from None


def _audio(ref: MediaRef) -> np.ndarray:
    try:
        samples = decode_audio(_data(ref), max_seconds=MAX_AUDIO_SECONDS)
    except MediaError as exc:
        if exc.reason == "too_long":
            raise Refused(1000022, "Audio duration too long", f"{ref.field}: {exc.message}") from None
        raise Refused(40044, "Invalid audio format", f"{ref.field}: {exc.message}") from None
    return samples


def _speech(scene: ScenePlan, index: int, seed: int) -> tuple[np.ndarray, str | None]:
    voice = scene.voice
    if voice.kind == "text":
        if len(voice.text) > MAX_TEXT_CHARS:
            detail = f"video_inputs[{index}].voice.input_text is longer than {MAX_TEXT_CHARS} characters"
            raise Refused(40039, "Invalid text detected", detail)
        if not voice.text.strip():
            raise Refused(40039, "Invalid text detected", f"video_inputs[{index}].voice.input_text is empty")
        audio = synthesize(voice.text, voice.engine_voice, seed=seed + index, speed=voice.speed, pitch=voice.pitch)
        return audio, voice.text
    if voice.kind == "audio":
        assert voice.audio is not None
        return _audio(voice.audio), None
    return np.zeros(round(voice.seconds * SAMPLE_RATE), dtype=np.float32), None


def _character(plan: CharacterPlan | None) -> Character | None:
    if plan is None:
        return None
    if plan.look is not None:
        rgb, alpha, face = plan.look.rgb, plan.look.alpha, plan.look.face
    else:
        assert plan.photo is not None
        rgb, alpha, face = _image(plan.photo), None, None
    return Character(rgb, alpha, face, kind=plan.kind, style=plan.style, scale=plan.scale, offset=plan.offset,
                     circle_color=plan.circle_color)  # fmt: skip


def _background(scene: ScenePlan) -> Background:
    bg = scene.background
    if bg.kind == "image" and bg.media is not None:
        return Background(image=_image(bg.media), fit=bg.fit)
    if bg.kind == "video" and bg.media is not None:
        data = _data(bg.media)
        try:
            probe_video_seconds(data)
        except MediaError as exc:
            raise Refused(40010, "Video format not supported", f"{bg.media.field}: {exc.message}") from None
        return Background(video=data, fit=bg.fit, play_style=bg.play_style)
    return Background(color=bg.color)


def build_production(plan: VideoPlan, seed: int) -> Production:
    scenes: list[Scene] = []
    for index, scene in enumerate(plan.scenes):
        audio, spoken = _speech(scene, index, seed)
        scenes.append(Scene(audio, _background(scene), _character(scene.character), scene.text, caption=spoken))
    total = sum(len(s.audio) for s in scenes) / SAMPLE_RATE
    if total > MAX_VIDEO_SECONDS:
        detail = f"Video is too long (> {MAX_VIDEO_SECONDS}s). Please upgrade your plan to generate longer videos"
        raise Refused(40119, "Video is too long", detail)
    return Production(scenes, plan.width, plan.height, seed=seed, watermark=plan.watermark)


def render_work(video: Video, plan: VideoPlan, tenant: Tenant, *, seed: int) -> Work:
    store = tenant.store

    def path(name: str) -> str:
        return str(store.path(tenant.name, f"{video.id}_{name}", ""))

    def work(ctx: JobContext) -> None:
        try:
            render(ctx)
        finally:
            if ctx.job.media_seconds is None:  # ended early (a refusal or a bug): report it at once
                ctx.set_media_seconds(0.0)

    def render(ctx: JobContext) -> None:
        try:
            production = build_production(plan, seed)
        except Refused as exc:
            video.failure = exc.error
            ctx.job.params["failure"] = exc.error.json()
            raise RenderFailure(exc.error.detail) from None
        frames = sum(max(1, round(len(s.audio) / SAMPLE_RATE * FPS)) for s in production.scenes)
        ctx.set_media_seconds(frames / FPS)
        files = {
            "video.mp4": path("video.mp4"),
            "thumbnail.jpg": path("thumbnail.jpg"),
            "preview.gif": path("preview.gif"),
        }
        if plan.caption_video:
            files["caption.mp4"] = path("caption.mp4")
        outputs = Outputs(Path(files["video.mp4"]), Path(files["thumbnail.jpg"]), Path(files["preview.gif"]),
                          Path(files["caption.mp4"]) if plan.caption_video else None)  # fmt: skip
        try:
            result = render_production(production, outputs, progress=ctx.progress, cancel=ctx.cancel,
                                       on_note=ctx.job.log.append)  # fmt: skip
        except RenderCancelled:
            raise RenderFailure("the render was cancelled") from None
        except MediaError as exc:
            video.failure = VideoError(40065, "Invalid video infos", exc.message)
            ctx.job.params["failure"] = video.failure.json()
            raise RenderFailure(exc.message) from None
        if plan.caption_file:
            files["captions.ass"] = path("captions.ass")
            Path(files["captions.ass"]).write_text(to_ass(result.cues, plan.width, plan.height), encoding="utf-8")
        ctx.set_media_seconds(result.duration)
        video.duration = result.duration
        # One dict for both: retention and --data-dir see the job's files, status links the video's.
        video.files = ctx.job.files = {name: Path(p) for name, p in files.items()}

    return work
