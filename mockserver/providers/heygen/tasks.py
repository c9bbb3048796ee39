"""What HeyGen sends to worker processes: check uploaded assets, render productions, draw catalog
previews. Runs in the children; media arrive as paths.

Input problems end the video `failed` with HeyGen's numeric error codes: they are raised as
`TaskRefused(detail, code=..., title=...)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from reference_engine import FPS, SAMPLE_RATE
from reference_engine.audio import decode_audio, probe_audio
from reference_engine.audio_formats import encode_audio
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

from ...core.workers import TaskContext, TaskRefused
from .plan import CharacterPlan, MediaRef, ScenePlan, VideoPlan
from .portraits import Look, draw_avatar, draw_photo, preview_png

MAX_TEXT_CHARS = 5000
MAX_AUDIO_SECONDS = 600.0
MAX_VIDEO_SECONDS = 3600.0
INVALID_INFOS = (40065, "Invalid video infos")


def _refused(code: int, title: str, detail: str) -> TaskRefused:
    return TaskRefused(detail, code=code, title=title)


def _data(ref: MediaRef) -> bytes:
    if ref.path is None:
        raise _refused(*INVALID_INFOS, f"{ref.field}: the input was not fetched")
    return Path(ref.path).read_bytes()


def _image(ref: MediaRef) -> np.ndarray:
    try:
        return decode_image(_data(ref))
    except MediaError as exc:
        raise _refused(40002, "Image format not supported", f"{ref.field}: {exc.message}") from None


def _audio(ref: MediaRef) -> np.ndarray:
    try:
        return decode_audio(_data(ref), max_seconds=MAX_AUDIO_SECONDS)
    except MediaError as exc:
        if exc.reason == "too_long":
            raise _refused(1000022, "Audio duration too long", f"{ref.field}: {exc.message}") from None
        raise _refused(40044, "Invalid audio format", f"{ref.field}: {exc.message}") from None


def _speech(scene: ScenePlan, index: int, seed: int) -> tuple[np.ndarray, str | None]:
    voice = scene.voice
    if voice.kind == "text":
        if len(voice.text) > MAX_TEXT_CHARS:
            detail = f"video_inputs[{index}].voice.input_text is longer than {MAX_TEXT_CHARS} characters"
            raise _refused(40039, "Invalid text detected", detail)
        if not voice.text.strip():
            raise _refused(40039, "Invalid text detected", f"video_inputs[{index}].voice.input_text is empty")
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
        drawn = draw_avatar(plan.look) if plan.kind == "avatar" else draw_photo(plan.look)
        rgb, alpha, face = drawn.rgb, drawn.alpha, drawn.face
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
            raise _refused(40010, "Video format not supported", f"{bg.media.field}: {exc.message}") from None
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
        raise _refused(40119, "Video is too long", detail)
    return Production(scenes, plan.width, plan.height, seed=seed, watermark=plan.watermark)


def render_video(ctx: TaskContext, plan: VideoPlan, seed: int, files: dict[str, str]) -> float:
    """Compose the scenes into `files` (video.mp4, thumbnail.jpg, preview.gif, and caption.mp4 /
    captions.ass when asked for); returns the video's seconds."""
    ctx.reached("render")
    production = build_production(plan, seed)
    frames = sum(max(1, round(len(s.audio) / SAMPLE_RATE * FPS)) for s in production.scenes)
    ctx.emit(media_seconds=frames / FPS)
    caption = files.get("caption.mp4")
    outputs = Outputs(Path(files["video.mp4"]), Path(files["thumbnail.jpg"]), Path(files["preview.gif"]),
                      Path(caption) if caption else None)  # fmt: skip
    steps = [0]

    def progress(fraction: float) -> None:
        ctx.progress(fraction)
        if int(fraction * 10) > steps[0]:  # a place for a `worker_crash` fault to strike mid-render
            steps[0] = int(fraction * 10)
            ctx.reached("fragment")

    try:
        result = render_production(production, outputs, progress=progress, cancel=ctx.cancel,
                                   on_note=lambda note: ctx.emit(note=note))
    except RenderCancelled:
        raise TaskRefused("the render was cancelled") from None
    except MediaError as exc:
        raise _refused(*INVALID_INFOS, exc.message) from None
    if "captions.ass" in files:
        Path(files["captions.ass"]).write_text(to_ass(result.cues, plan.width, plan.height), encoding="utf-8")
    return float(result.duration)


def check_asset(ctx: TaskContext, source: str, target: str, kind: str) -> None:
    """Check that an uploaded asset decodes as the `kind` it claims (image, audio or video)."""
    ctx.reached("probe")
    data = Path(source).read_bytes()
    try:
        if kind == "image":
            decode_image(data)
        elif kind == "audio":
            probe_audio(data)
        else:
            probe_video_seconds(data)
    except MediaError as exc:
        raise TaskRefused(exc.message, reason=exc.reason) from None
    except MemoryError:
        raise
    except Exception as exc:  # whatever a hostile file makes a decoder raise is still the file's fault
        raise TaskRefused(f"it could not be decoded ({type(exc).__name__})", reason="undecodable") from None


def portrait_png(ctx: TaskContext, kind: str, look: Look, target: str) -> None:
    """A built-in avatar or talking photo over a light backdrop, as PNG (the catalog's preview)."""
    Path(target).write_bytes(preview_png(draw_avatar(look) if kind == "avatar" else draw_photo(look)))


def voice_preview(ctx: TaskContext, greeting: str, engine_voice: str, target: str) -> None:
    Path(target).write_bytes(encode_audio(synthesize(greeting, engine_voice), "mp3"))


def avatar_preview(ctx: TaskContext, look: Look, greeting: str, engine_voice: str, target: str) -> None:
    """A short clip of a built-in avatar saying hello (320x320), for the catalog."""
    audio = synthesize(greeting, engine_voice)
    drawn = draw_avatar(look)
    scene = Scene(audio.astype(np.float32), Background(color=(236, 238, 242)),
                  Character(drawn.rgb, drawn.alpha, drawn.face))  # fmt: skip
    render_production(Production([scene], 320, 320), Outputs(Path(target)))


def failure_of(details: dict[str, Any]) -> tuple[int, str] | None:
    """(code, title) of a TaskRefused raised with HeyGen's codes."""
    if "code" in details:
        return int(details["code"]), str(details["title"])
    return None
