"""Inputs the suite sends: a synthetic face PNG and a speech-like WAV with loud and silent sections."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SAMPLE_RATE = 24000
# (start s, end s) of the loud sections; everything else is silence.
LOUD = ((0.30, 1.05), (1.45, 2.25))
DURATION_S = 2.6


@dataclass(frozen=True)
class Speech:
    wav: bytes
    samples: np.ndarray
    """float32 mono in [-1, 1]."""
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@cache
def face_png(size: int = 512) -> bytes:
    """A frontal cartoon face on a textured background (Haar-detectable), as PNG bytes."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size]
    bg = np.stack([90 + 60 * x / size, 110 + 40 * y / size, 150 - 30 * x / size], axis=-1)
    bg += rng.normal(0, 6, bg.shape)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    s = size / 512
    cx, cy = size // 2, int(size * 0.5)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (int(cx + x0 * s), int(cy + y0 * s), int(cx + x1 * s), int(cy + y1 * s))

    d.ellipse(box(-150, -220, 150, 190), fill=(60, 40, 30))  # hair
    d.rectangle(box(-30, 150, 30, 260), fill=(205, 160, 130))  # neck
    d.ellipse(box(-125, -170, 125, 185), fill=(224, 180, 150))  # face
    for side in (-1, 1):
        ex = 52 * side
        d.ellipse(box(ex - 32, -55, ex + 32, -25), fill=(250, 250, 250))  # eye white
        d.ellipse(box(ex - 13, -53, ex + 13, -27), fill=(40, 30, 25))  # iris
        d.rectangle(box(ex - 36, -82, ex + 36, -70), fill=(70, 45, 35))  # brow
    d.polygon([box(0, -30, 0, -30)[:2], box(-18, 45, -18, 45)[:2], box(18, 45, 18, 45)[:2]], fill=(200, 150, 120))
    d.ellipse(box(-50, 85, 50, 115), fill=(150, 60, 60))  # mouth
    d.line([box(-45, 100, 45, 100)[:2], box(45, 100, 45, 100)[:2]], fill=(90, 30, 30), width=max(1, int(4 * s)))
    img = img.filter(ImageFilter.GaussianBlur(radius=1.2 * s))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@cache
def speech(duration: float = DURATION_S, sample_rate: int = SAMPLE_RATE) -> Speech:
    """Voiced bursts (syllables at ~4.5 Hz) in the LOUD sections, digital silence elsewhere, as 16-bit WAV."""
    n = round(duration * sample_rate)
    t = np.arange(n) / sample_rate
    rng = np.random.default_rng(11)
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 9)) + 0.05 * rng.normal(size=n)
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 4.5 * t)
    gate = np.zeros(n)
    for start, end in LOUD:
        gate[(t >= start) & (t < end)] = 1.0
    ramp = int(0.02 * sample_rate)
    kernel = np.ones(ramp) / ramp
    gate = np.convolve(gate, kernel, mode="same")
    samples = (voiced * syllables * gate).astype(np.float64)
    samples = 0.6 * samples / max(np.abs(samples).max(), 1e-9)
    pcm = (samples * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return Speech(buf.getvalue(), samples.astype(np.float32), sample_rate)


@cache
def two_tone_png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A PNG whose top half is one flat colour and bottom half another (a background that shows its fit)."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[: height // 2] = top
    pixels[height // 2 :] = bottom
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG")
    return buf.getvalue()
