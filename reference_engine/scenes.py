"""Multi-scene productions: each scene is a background, an optional talking character, an optional
text overlay and its speech; scenes are rendered in turn and concatenated into one MP4.

Frames are composed on RGB with numpy, converted to I420 once, and encoded with the engine's
libx264/AAC writer; the result is remuxed so `moov` comes before `mdat`. A second, captioned MP4,
a JPEG thumbnail and an animated GIF preview can be written in the same pass.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from . import FPS, SAMPLE_RATE
from .animate import FaceAnimator, frame_count
from .captions import Cue, caption_sprite, cue_at, cues_for_text
from .compose import Sprite, blend, fit_image, solid, text_sprite, watermark_sprite
from .errors import MediaError
from .faststart import remux_faststart
from .layout import Character, Placed, place
from .video import FragmentedMP4Writer

SPF = SAMPLE_RATE // FPS
GIF_STEP = 5  # one GIF frame every 5 video frames (5 fps)
GIF_FRAMES = 25
GIF_WIDTH = 320


class RenderCancelled(Exception):
    """The production's cancel event was set before it finished."""


@dataclass(frozen=True)
class Background:
    """A colour, a still image (HxWx3) or a video (file bytes) with fit and play_style."""

    color: tuple[int, int, int] = (255, 255, 255)
    image: np.ndarray | None = None
    video: bytes | None = None
    fit: str = "cover"
    play_style: str = "fit_to_scene"  # fit_to_scene | freeze | loop | once


@dataclass(frozen=True)
class TextOverlay:
    text: str
    size: int = 48
    color: tuple[int, int, int] = (255, 255, 255)
    x: float = 0.5
    y: float = 0.1
    align: str = "center"


@dataclass(frozen=True)
class Scene:
    audio: np.ndarray  # float32 mono 24 kHz: its length sets the scene's length
    background: Background = field(default_factory=Background)
    character: Character | None = None
    text: TextOverlay | None = None
    caption: str | None = None  # the spoken text, for captions


@dataclass(frozen=True)
class Production:
    scenes: list[Scene]
    width: int = 1280
    height: int = 720
    seed: int = 0
    watermark: bool = False


@dataclass(frozen=True)
class Outputs:
    video: Path
    thumbnail: Path | None = None
    gif: Path | None = None
    captioned: Path | None = None  # burn captions into this second MP4


@dataclass
class RenderResult:
    frames: int
    scene_frames: list[int]
    cues: list[Cue]

    @property
    def duration(self) -> float:
        return self.frames / FPS


class VideoSource:
    """A background video decoded forward on demand: `frame_at(t)` is the frame showing at t seconds."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.duration = probe_video_seconds(data)
        self._open()

    def _open(self) -> None:
        self._container = av.open(io.BytesIO(self._data), mode="r")
        self._frames = self._container.decode(video=0)
        self._cur: tuple[float, np.ndarray] | None = None
        self._next = self._read()
        self.index = 0

    def _read(self) -> tuple[float, np.ndarray] | None:
        try:
            frame = next(self._frames)
        except (StopIteration, av.FFmpegError):
            return None
        return float(frame.time or 0.0), frame.to_ndarray(format="rgb24")

    def frame_at(self, t: float) -> np.ndarray:
        if self._cur is not None and t + 1e-6 < self._cur[0]:
            self.close()
            self._open()
        while self._next is not None and (self._cur is None or self._next[0] <= t + 1e-6):
            self._cur, self._next = self._next, self._read()
            self.index += 1
        if self._cur is None:
            raise MediaError("video", "undecodable", "the background video has no frames")
        return self._cur[1]

    def close(self) -> None:
        self._container.close()


def probe_video_seconds(data: bytes) -> float:
    """Duration of a video file's first video stream; MediaError if it has none or cannot be read."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError("video", "undecodable", "the file has no video stream")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
            last = 0.0
            for frame in container.decode(stream):
                last = float(frame.time or 0.0) + 1.0 / FPS
            return last
    except av.FFmpegError as exc:
        raise MediaError("video", "undecodable", f"the video cannot be decoded: {exc}") from None


class _SceneRenderer:
    """Draws the frames of one scene (background, character, overlay) into a reused RGB buffer."""

    def __init__(self, scene: Scene, n_frames: int, audio: np.ndarray, prod: Production) -> None:
        w, h = prod.width, prod.height
        self.scene, self.n, self.w, self.h = scene, n_frames, w, h
        bg = scene.background
        self.still: np.ndarray | None = None
        self.video: VideoSource | None = None
        self._video_cache: tuple[int, np.ndarray] | None = None
        if bg.video is not None:
            self.video = VideoSource(bg.video)
        elif bg.image is not None:
            self.still = fit_image(bg.image, w, h, bg.fit)
        else:
            self.still = solid(w, h, bg.color)
        self.placed: Placed | None = None
        self.animator: FaceAnimator | None = None
        self.notes: list[str] = []
        if scene.character is not None:
            self.placed = place(scene.character, w, h)
            if self.placed is not None and self.placed.face is not None:
                self.animator = FaceAnimator(self.placed.rgb, audio, seed=prod.seed, face=self.placed.face)
                self.notes += self.animator.notes
            elif self.placed is not None:
                self.notes.append("the character's face is outside the frame or too small to animate")
        t = scene.text
        self.text: Sprite | None = None
        if t is not None and t.text.strip():
            self.text = text_sprite(t.text, w, h, size=t.size, color=t.color, x=t.x, y=t.y, align=t.align)

    def _background(self, i: int) -> np.ndarray:
        if self.video is None:
            assert self.still is not None
            return self.still
        bg, src = self.scene.background, self.video
        d = max(src.duration, 1.0 / FPS)
        t = i / FPS
        if bg.play_style == "fit_to_scene":
            t = i / max(1, self.n) * d
        elif bg.play_style == "loop":
            t = t % d
        raw = src.frame_at(min(t, d))
        if self._video_cache is None or self._video_cache[0] != src.index:
            self._video_cache = (src.index, fit_image(raw, self.w, self.h, bg.fit))
        return self._video_cache[1]

    def draw(self, i: int, out: np.ndarray) -> None:
        np.copyto(out, self._background(i))
        placed = self.placed
        if placed is not None:
            if self.animator is not None:
                rgb = self.animator.rgb_frame(min(i, self.animator.n_frames - 1))
            else:
                rgb = placed.rgb
            blend(out, rgb, placed.alpha, placed.x, placed.y)
        if self.text is not None:
            self.text.draw(out)

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


def _scene_frames(scene: Scene) -> int:
    n = frame_count(len(scene.audio))
    bg = scene.background
    if bg.video is not None and bg.play_style == "once":
        n = max(n, round(probe_video_seconds(bg.video) * FPS))
    return n


def _fit_audio(audio: np.ndarray, n_frames: int) -> np.ndarray:
    out = np.zeros(n_frames * SPF, dtype=np.float32)
    flat = np.asarray(audio, dtype=np.float32).reshape(-1)[: out.size]
    out[: flat.size] = flat
    return out


class _Sink:
    """One FragmentedMP4Writer writing its fragments to a temporary fMP4 next to the final MP4."""

    def __init__(self, final: Path, prod: Production, audio: np.ndarray) -> None:
        self.final = final
        fd, name = tempfile.mkstemp(suffix=".fmp4", dir=final.parent)
        self.tmp = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.writer = FragmentedMP4Writer(prod.width, prod.height, audio)
        self.file.write(self.writer.header())

    def write(self, rgb: np.ndarray) -> None:
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        for data in self.writer.write(yuv):
            self.file.write(data)

    def finish(self) -> None:
        for data in self.writer.close():
            self.file.write(data)
        self.file.close()
        remux_faststart(self.tmp, self.final)
        self.tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        self.writer.abort()
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def _save_previews(outputs: Outputs, thumb: np.ndarray | None, gif: list[np.ndarray]) -> None:
    if outputs.thumbnail is not None and thumb is not None:
        Image.fromarray(thumb).save(outputs.thumbnail, format="JPEG", quality=85)
    if outputs.gif is not None and gif:
        h, w = gif[0].shape[:2]
        k = min(1.0, GIF_WIDTH / w)
        size = (max(2, int(w * k)), max(2, int(h * k)))
        images = [Image.fromarray(f).resize(size, Image.Resampling.BILINEAR) for f in gif]
        images[0].save(outputs.gif, format="GIF", save_all=True, append_images=images[1:],
                       duration=1000 * GIF_STEP // FPS, loop=0)  # fmt: skip


def render_production(
    prod: Production,
    outputs: Outputs,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    on_note: Callable[[str], None] | None = None,
) -> RenderResult:
    """Render every scene of `prod` into `outputs`; raises RenderCancelled if `cancel` gets set.

    on_note(text) is told what a user should know about the result (a scene whose photo has no face).
    """
    if not prod.scenes:
        raise ValueError("a production needs at least one scene")
    counts = [_scene_frames(s) for s in prod.scenes]
    audios = [_fit_audio(s.audio, n) for s, n in zip(prod.scenes, counts, strict=True)]
    cues: list[Cue] = []
    start = 0
    for scene, n in zip(prod.scenes, counts, strict=True):
        if scene.caption:
            cues.extend(cues_for_text(scene.caption, start / FPS, n / FPS))
        start += n
    total = sum(counts)
    full_audio = np.concatenate(audios)
    watermark = watermark_sprite(prod.width, prod.height) if prod.watermark else None
    sinks = [_Sink(outputs.video, prod, full_audio)]
    if outputs.captioned is not None:
        sinks.append(_Sink(outputs.captioned, prod, full_audio))
    frame = np.empty((prod.height, prod.width, 3), dtype=np.uint8)
    captioned = np.empty_like(frame)
    cap_cache: dict[str, Sprite | None] = {}
    thumb: np.ndarray | None = None
    gif: list[np.ndarray] = []
    done = 0
    try:
        for index, (scene, n, audio) in enumerate(zip(prod.scenes, counts, audios, strict=True)):
            renderer = _SceneRenderer(scene, n, audio, prod)
            for note in renderer.notes:
                if on_note is not None:
                    on_note(f"scene {index + 1}: {note}")
            try:
                for i in range(n):
                    if cancel is not None and cancel.is_set():
                        raise RenderCancelled()
                    renderer.draw(i, frame)
                    if watermark is not None:
                        watermark.draw(frame)
                    sinks[0].write(frame)
                    if len(sinks) > 1:
                        np.copyto(captioned, frame)
                        cue = cue_at(cues, (done + 0.5) / FPS)
                        if cue is not None:
                            if cue.text not in cap_cache:
                                cap_cache[cue.text] = caption_sprite(cue.text, prod.width, prod.height)
                            sprite = cap_cache[cue.text]
                            if sprite is not None:
                                blend(captioned, sprite.rgb, sprite.alpha, sprite.x, sprite.y)
                        sinks[1].write(captioned)
                    if done == min(total - 1, FPS // 2):
                        thumb = frame.copy()
                    if done % GIF_STEP == 0 and len(gif) < GIF_FRAMES:
                        gif.append(frame.copy())
                    done += 1
                    if progress is not None:
                        progress(0.98 * done / total)
            finally:
                renderer.close()
        for sink in sinks:
            sink.finish()
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    _save_previews(outputs, thumb, gif)
    if progress is not None:
        progress(1.0)
    return RenderResult(total, counts, cues)
