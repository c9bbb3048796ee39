"""Shared test media: synthetic portraits and speech-like audio, plus PyAV-based MP4 inspection.

Everything here is deterministic (numpy Generator seeded explicitly) and needs no files on disk.
Other test packages import these helpers; keep the signatures stable.
"""

from __future__ import annotations

import io
import itertools
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reference_engine import mp4box

SAMPLE_RATE = 24_000
FPS = 25


# --------------------------------------------------------------------------- portraits


@dataclass(frozen=True)
class Portrait:
    """A synthetic portrait and where its face truly is (pixel coordinates)."""

    rgb: np.ndarray  # HxWx3 uint8
    face_center: tuple[int, int]  # (x, y) of the face ellipse centre
    face_size: tuple[int, int]  # (w, h) of the face ellipse
    mouth_center: tuple[int, int]

    @property
    def face_box(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the face ellipse's bounding box."""
        cx, cy = self.face_center
        w, h = self.face_size
        return cx - w // 2, cy - h // 2, w, h


def busy_background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A colourful textured scene (blocks, stripes and noise), HxWx3 uint8."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(40, 200, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(10, width // 3 + 11)), y0 + int(rng.integers(10, height // 3 + 11))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(2, 9)))
    arr = np.asarray(img, dtype=np.int16)
    arr = arr + rng.integers(-25, 26, arr.shape, dtype=np.int16)
    return np.clip(arr, 0, 255).astype(np.uint8)


def plain_background(width: int, height: int) -> np.ndarray:
    """A soft vertical grey-blue gradient, HxWx3 uint8."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([170, 180, 200], np.float32), np.array([90, 100, 120], np.float32)
    col = top * (1 - t) + bottom * t
    return np.broadcast_to(col, (height, width, 3)).astype(np.uint8).copy()


def draw_face(img: Image.Image, cx: int, cy: int, fw: int) -> tuple[int, int, int, int]:
    """Draw a shaded cartoon head centred at (cx, cy) with face width fw; returns (fw, fh, mouth_x, mouth_y)."""
    fh = int(fw * 1.3)
    draw = ImageDraw.Draw(img)
    skin = (224, 172, 140)
    # neck and shoulders first, then hair behind the face
    draw.rectangle((cx - fw * 0.22, cy + fh * 0.3, cx + fw * 0.22, cy + fh * 0.75), fill=(205, 150, 120))
    draw.ellipse((cx - fw * 0.9, cy + fh * 0.62, cx + fw * 0.9, cy + fh * 1.4), fill=(40, 60, 120))
    draw.ellipse((cx - fw * 0.58, cy - fh * 0.62, cx + fw * 0.58, cy + fh * 0.2), fill=(50, 35, 25))
    draw.ellipse((cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2), fill=skin)
    # cheeks darker toward the edges: a second, smaller lighter ellipse
    draw.ellipse((cx - fw * 0.38, cy - fh * 0.36, cx + fw * 0.38, cy + fh * 0.4), fill=(236, 188, 156))
    ey = cy - fh * 0.08
    for side in (-1, 1):
        ex = cx + side * fw * 0.2
        # brow, dark socket, white, iris
        draw.rectangle((ex - fw * 0.13, ey - fh * 0.12, ex + fw * 0.13, ey - fh * 0.08), fill=(60, 40, 30))
        draw.ellipse((ex - fw * 0.13, ey - fh * 0.06, ex + fw * 0.13, ey + fh * 0.05), fill=(150, 105, 85))
        draw.ellipse((ex - fw * 0.1, ey - fh * 0.035, ex + fw * 0.1, ey + fh * 0.035), fill=(245, 245, 240))
        draw.ellipse((ex - fw * 0.04, ey - fh * 0.035, ex + fw * 0.04, ey + fh * 0.035), fill=(40, 30, 25))
    # nose: shaded ridge and nostrils
    draw.polygon(
        [(cx, cy - fh * 0.02), (cx - fw * 0.07, cy + fh * 0.16), (cx + fw * 0.07, cy + fh * 0.16)], fill=(205, 150, 120)
    )
    for side in (-1, 1):
        nx = cx + side * fw * 0.035
        draw.ellipse((nx - fw * 0.02, cy + fh * 0.13, nx + fw * 0.02, cy + fh * 0.16), fill=(120, 70, 60))
    my = cy + fh * 0.27
    draw.ellipse((cx - fw * 0.17, my - fh * 0.035, cx + fw * 0.17, my + fh * 0.035), fill=(170, 70, 70))
    draw.line((cx - fw * 0.15, my, cx + fw * 0.15, my), fill=(90, 30, 30), width=max(1, fw // 60))
    return fw, fh, int(cx), int(my)


def make_portrait(
    width: int = 512,
    height: int = 512,
    *,
    center: tuple[float, float] = (0.5, 0.45),
    face_width: float = 0.4,
    background: str = "plain",
    seed: int = 0,
) -> Portrait:
    """Compose a portrait: `center` and `face_width` are fractions of the image width/height."""
    bg = busy_background(width, height, seed) if background == "busy" else plain_background(width, height)
    img = Image.fromarray(bg)
    cx, cy = int(center[0] * width), int(center[1] * height)
    fw, fh, mx, my = draw_face(img, cx, cy, int(face_width * width))
    img = img.filter(ImageFilter.GaussianBlur(radius=max(0.6, fw / 200)))
    return Portrait(np.asarray(img).copy(), (cx, cy), (fw, fh), (mx, my))


def blank_image(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A faceless image (smooth noise) for detector fallbacks."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)).copy()


def encode_image(rgb: np.ndarray, fmt: str = "PNG", **save_args: object) -> bytes:
    """Encode an RGB array with Pillow (PNG, JPEG, WEBP, GIF, BMP ...)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **save_args)
    return buf.getvalue()


# --------------------------------------------------------------------------- audio


def speech_like(
    seconds: float = 2.0, *, seed: int = 0, silences: list[tuple[float, float]] | None = None
) -> np.ndarray:
    """Speech-like float32 mono 24 kHz: voiced bursts (harmonics at a wobbling pitch) with syllable rhythm.

    `silences` is a list of (start_s, end_s) intervals forced to exact zero.
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    f0 = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 7))
    syll = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, np.pi)), 0.0, None) ** 0.7
    sig = 0.25 * voiced * syll + 0.01 * rng.standard_normal(n)
    for start, end in silences or []:
        sig[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 0.0
    return sig.astype(np.float32)


def frame_loudness(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS of each 40 ms video frame's audio (float64, length n_frames)."""
    spf = SAMPLE_RATE // FPS
    padded = np.zeros(n_frames * spf, dtype=np.float64)
    m = min(len(audio), len(padded))
    padded[:m] = audio[:m]
    return np.sqrt(np.mean(padded.reshape(n_frames, spf) ** 2, axis=1))


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM mono WAV of a float signal in -1..1."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# --------------------------------------------------------------------------- MP4 inspection


@dataclass(frozen=True)
class VideoFacts:
    """What a decoder sees in an MP4: the video frames (RGB) and the stream facts."""

    frames: list[np.ndarray]
    width: int
    height: int
    fps: float
    codec: str
    pix_fmt: str
    audio_codec: str | None
    audio_rate: int | None
    audio_channels: int | None

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def video_seconds(self) -> float:
        return self.n_frames / self.fps


def inspect_mp4(source: str | Path | bytes) -> VideoFacts:
    """Decode every video frame of an MP4/fMP4 (path or bytes) with PyAV."""
    src: str | io.BytesIO = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(src, mode="r") as container:
        vs = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(vs)]
        rate = vs.base_rate or vs.guessed_rate or vs.average_rate or FPS  # nominal rate (r_frame_rate)
        return VideoFacts(
            frames=frames,
            width=vs.codec_context.width,
            height=vs.codec_context.height,
            fps=float(rate),
            codec=vs.codec_context.name,
            pix_fmt=str(vs.codec_context.pix_fmt),
            audio_codec=audio.codec_context.name if audio else None,
            audio_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
        )


def top_level_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """(type, offset, size) of each top-level ISO-BMFF box (the engine's reader; ValueError if malformed)."""
    return [(box.type, box.offset, box.size) for box in mp4box.top_level(data)]


def child_boxes(data: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    """Boxes nested in data[start:end] (one level)."""
    return [(box.type, box.offset, box.size) for box in mp4box.iter_boxes(data, start, end)]


def moof_video_duration(data: bytes, moof_offset: int, moof_size: int, timescale: int = 12800) -> float:
    """Seconds covered by track 1's samples in one moof (trun durations, or tfhd default duration)."""
    moof = next(mp4box.iter_boxes(data, moof_offset, moof_offset + moof_size))
    return sum(run.duration for run in mp4box.track_runs(moof) if run.track_id == 1) / timescale


def region_motion(frames: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Mean absolute luma difference between consecutive frames inside box=(x, y, w, h); length n-1."""
    x, y, w, h = box
    luma = [f[y : y + h, x : x + w].astype(np.float32).mean(axis=2) for f in frames]
    return np.array([np.abs(b - a).mean() for a, b in itertools.pairwise(luma)])


def region_darkness(frames: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Fraction of dark pixels (luma < 70) inside box for each frame — how open a drawn mouth is."""
    x, y, w, h = box
    return np.array([(f[y : y + h, x : x + w].astype(np.float32).mean(axis=2) < 70).mean() for f in frames])


def motion_energy_map(frames: list[np.ndarray], floor: float = 6.0) -> np.ndarray:
    """Per-pixel sum of absolute luma differences over consecutive frame pairs (HxW float64).

    Differences below `floor` levels (codec noise, e.g. at keyframes on a busy background) are ignored.
    """
    acc = np.zeros(frames[0].shape[:2], dtype=np.float64)
    prev = frames[0].astype(np.float32).mean(axis=2)
    for f in frames[1:]:
        cur = f.astype(np.float32).mean(axis=2)
        diff = np.abs(cur - prev)
        diff[diff < floor] = 0.0
        acc += diff
        prev = cur
    return acc
