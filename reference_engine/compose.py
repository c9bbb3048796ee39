"""Frame composition on RGB uint8 arrays: colours, fitted images, alpha sprites, text and watermarks.

Everything is numpy on HxWx3 uint8 frames; Pillow only rasterises text and resamples images.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Fit = Literal["cover", "crop", "contain", "none"]
Align = Literal["left", "center", "right"]

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def parse_hex_color(value: str) -> tuple[int, int, int]:
    """`#RRGGBB` or `#RGB` (the `#` optional) to an (r, g, b) tuple; ValueError otherwise."""
    match = _HEX.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a hex colour")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> np.ndarray:
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[...] = rgb
    return frame


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resample an HxWxC uint8 array to width x height (bilinear; cheap and good enough)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    mode = "RGBA" if rgb.shape[2] == 4 else "RGB"
    img = Image.fromarray(np.ascontiguousarray(rgb), mode)
    return np.asarray(img.resize((max(1, width), max(1, height)), Image.Resampling.BILINEAR)).copy()


def fit_image(rgb: np.ndarray, width: int, height: int, fit: str = "cover") -> np.ndarray:
    """Fit an image to a width x height frame.

    cover/crop: scale to fill and crop the overflow around the centre; contain: scale to fit inside,
    black bars; none: native size, centred, cropped or padded with black.
    """
    src_h, src_w = rgb.shape[:2]
    if fit in ("cover", "crop"):
        scale = max(width / src_w, height / src_h)
    elif fit == "contain":
        scale = min(width / src_w, height / src_h)
    else:
        scale = 1.0
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    scaled = resize(rgb[..., :3], new_w, new_h)
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    paste(frame, scaled, x, y)
    return frame


def _clip(frame: np.ndarray, w: int, h: int, x: int, y: int) -> tuple[slice, slice, slice, slice] | None:
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1), slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)


def paste(frame: np.ndarray, rgb: np.ndarray, x: int, y: int) -> None:
    """Copy `rgb` into `frame` with its top-left at (x, y), clipped to the frame."""
    spans = _clip(frame, rgb.shape[1], rgb.shape[0], x, y)
    if spans is not None:
        fy, fx, sy, sx = spans
        frame[fy, fx] = rgb[sy, sx, :3]


def blend(frame: np.ndarray, rgb: np.ndarray, alpha: np.ndarray | None, x: int, y: int) -> None:
    """Alpha-blend `rgb` (HxWx3) with `alpha` (HxW float32 0..1, None = opaque) into `frame` at (x, y)."""
    if alpha is None:
        paste(frame, rgb, x, y)
        return
    spans = _clip(frame, rgb.shape[1], rgb.shape[0], x, y)
    if spans is None:
        return
    fy, fx, sy, sx = spans
    a = alpha[sy, sx][..., None]
    dst = frame[fy, fx].astype(np.float32)
    frame[fy, fx] = (dst + (rgb[sy, sx, :3].astype(np.float32) - dst) * a + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class Sprite:
    """A pre-rendered overlay: RGB, its alpha (0..1) and where its top-left lands in the frame."""

    rgb: np.ndarray
    alpha: np.ndarray
    x: int
    y: int

    def draw(self, frame: np.ndarray) -> None:
        blend(frame, self.rgb, self.alpha, self.x, self.y)


def sprite_from_rgba(rgba: np.ndarray, x: int, y: int, *, opacity: float = 1.0) -> Sprite | None:
    """Crop a transparent RGBA image to its visible pixels; None if nothing is visible."""
    alpha = rgba[..., 3].astype(np.float32) * (opacity / 255.0)
    rows, cols = np.nonzero(alpha > 0.0)
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    return Sprite(np.ascontiguousarray(rgba[r0:r1, c0:c1, :3]), alpha[r0:r1, c0:c1].copy(), x + c0, y + r0)


def circle_mask(size: int, *, feather: float = 1.5) -> np.ndarray:
    """A size x size float32 disc (1 inside, 0 outside) with an anti-aliased edge."""
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.sqrt((yy - c) ** 2 + (xx - c) ** 2)
    return np.clip((size / 2.0 - r) / feather, 0.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font at `size` pixels (nothing is read from the system)."""
    return ImageFont.load_default(size=max(1, size))


def text_sprite(
    text: str,
    frame_w: int,
    frame_h: int,
    *,
    size: int,
    color: tuple[int, int, int],
    x: float,
    y: float,
    align: str = "center",
    stroke: tuple[int, int, int] | None = None,
    box: tuple[int, int, int, int] | None = None,
    line_spacing: float = 1.2,
) -> Sprite | None:
    """Rasterise `text` (may hold newlines) once as a sprite.

    (x, y) are fractions of the frame: y is the top of the text; x is its left edge, centre or right
    edge for align left, center or right. `box` is an optional RGBA backing plate behind the text.
    """
    face = font(size)
    lines = text.split("\n")
    pad = max(2, size // 6)
    widths = [int(face.getlength(line)) for line in lines]
    line_h = max(1, int(size * line_spacing))
    width, height = max([*widths, 1]) + 2 * pad, line_h * len(lines) + 2 * pad
    img = Image.new("RGBA", (width, height), box if box is not None else (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for i, (line, w) in enumerate(zip(lines, widths, strict=True)):
        lx = pad if align == "left" else (width - w) // 2 if align == "center" else width - pad - w
        draw.text(
            (lx, pad + i * line_h), line, font=face, fill=(*color, 255),
            stroke_width=max(1, size // 16) if stroke is not None else 0,
            stroke_fill=(*stroke, 255) if stroke is not None else None,
        )  # fmt: skip
    anchor_x = x * frame_w
    left = anchor_x - pad if align == "left" else anchor_x - width / 2 if align == "center" else anchor_x - width + pad
    rgba = np.asarray(img)
    if box is not None:
        alpha = rgba[..., 3].astype(np.float32) / 255.0
        return Sprite(np.ascontiguousarray(rgba[..., :3]), alpha, round(left), round(y * frame_h - pad))
    return sprite_from_rgba(rgba, round(left), round(y * frame_h - pad))


def watermark_sprite(width: int, height: int, label: str = "HeyGen emulator - TEST") -> Sprite | None:
    """A large, half-transparent white label with a dark outline across the middle of the frame."""
    size = max(10, min(width // max(8, len(label) // 2 + 2), height // 5))
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    face = font(size)
    text_w = face.getlength(label)
    draw.text(((width - text_w) / 2, height / 2 - size / 2), label, font=face, fill=(255, 255, 255, 255),
              stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0, 255))  # fmt: skip
    return sprite_from_rgba(np.asarray(img), 0, 0, opacity=0.6)
