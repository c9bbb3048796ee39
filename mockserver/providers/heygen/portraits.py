"""Deterministic cartoon people for the built-in catalog (Pillow only, nothing downloaded).

Avatars are drawn on a transparent canvas (head and shoulders over a torso), so they composite
onto any background; talking photos are opaque portraits with their own backdrop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reference_engine.face import FaceBox, face_from_box

AVATAR_SIZE = (384, 576)  # width, height
PHOTO_SIZE = (448, 448)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Look:
    skin: RGB
    hair: RGB
    shirt: RGB
    backdrop: RGB = (200, 205, 215)
    long_hair: bool = False


@dataclass(frozen=True)
class Drawn:
    rgb: np.ndarray  # HxWx3 uint8
    alpha: np.ndarray | None  # HxW float32 0..1, None when opaque
    face: FaceBox


def _shade(color: RGB, k: float) -> RGB:
    return (min(255, int(color[0] * k)), min(255, int(color[1] * k)), min(255, int(color[2] * k)))


def _person(draw: ImageDraw.ImageDraw, look: Look, cx: float, cy: float, fw: float) -> tuple[int, int, int, int]:
    """Draw torso, neck, hair and face; return the face box (x, y, w, h)."""
    fh = fw * 1.3
    neck = _shade(look.skin, 0.9)
    draw.ellipse((cx - fw * 1.25, cy + fh * 0.62, cx + fw * 1.25, cy + fh * 2.6), fill=(*look.shirt, 255))
    draw.rectangle((cx - fw * 0.22, cy + fh * 0.3, cx + fw * 0.22, cy + fh * 0.8), fill=(*neck, 255))
    hair_bottom = cy + (fh * 0.9 if look.long_hair else fh * 0.2)
    draw.ellipse((cx - fw * 0.6, cy - fh * 0.64, cx + fw * 0.6, hair_bottom), fill=(*look.hair, 255))
    draw.ellipse((cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2), fill=(*look.skin, 255))
    draw.ellipse((cx - fw * 0.38, cy - fh * 0.36, cx + fw * 0.38, cy + fh * 0.4), fill=(*_shade(look.skin, 1.06), 255))
    ey = cy - fh * 0.08
    for side in (-1, 1):
        ex = cx + side * fw * 0.2
        draw.rectangle(
            (ex - fw * 0.13, ey - fh * 0.12, ex + fw * 0.13, ey - fh * 0.08), fill=(*_shade(look.hair, 1.2), 255)
        )
        draw.ellipse(
            (ex - fw * 0.13, ey - fh * 0.06, ex + fw * 0.13, ey + fh * 0.05), fill=(*_shade(look.skin, 0.7), 255)
        )
        draw.ellipse((ex - fw * 0.1, ey - fh * 0.035, ex + fw * 0.1, ey + fh * 0.035), fill=(245, 245, 240, 255))
        draw.ellipse((ex - fw * 0.04, ey - fh * 0.035, ex + fw * 0.04, ey + fh * 0.035), fill=(40, 30, 25, 255))
    nose = _shade(look.skin, 0.9)
    draw.polygon([(cx, cy - fh * 0.02), (cx - fw * 0.07, cy + fh * 0.16), (cx + fw * 0.07, cy + fh * 0.16)],
                 fill=(*nose, 255))  # fmt: skip
    my = cy + fh * 0.27
    draw.ellipse((cx - fw * 0.17, my - fh * 0.035, cx + fw * 0.17, my + fh * 0.035), fill=(170, 70, 70, 255))
    draw.line((cx - fw * 0.15, my, cx + fw * 0.15, my), fill=(90, 30, 30, 255), width=max(1, int(fw) // 60))
    return int(cx - fw / 2), int(cy - fh / 2), int(fw), int(fh)


def _finish(img: Image.Image, box: tuple[int, int, int, int], opaque: bool) -> Drawn:
    img = img.filter(ImageFilter.GaussianBlur(radius=0.8))
    rgba = np.asarray(img)
    face = face_from_box(*box, detected=True)
    if opaque:
        return Drawn(np.ascontiguousarray(rgba[..., :3]), None, face)
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    return Drawn(np.ascontiguousarray(rgba[..., :3]), alpha, face)


@functools.lru_cache(maxsize=64)
def draw_avatar(look: Look) -> Drawn:
    """A transparent-background avatar, AVATAR_SIZE, face in the upper third."""
    w, h = AVATAR_SIZE
    img = Image.new("RGBA", (w, h), (*look.shirt, 0))
    box = _person(ImageDraw.Draw(img), look, w / 2, h * 0.3, w * 0.36)
    return _finish(img, box, opaque=False)


@functools.lru_cache(maxsize=64)
def draw_photo(look: Look) -> Drawn:
    """An opaque talking-photo portrait on a soft gradient backdrop, PHOTO_SIZE."""
    w, h = PHOTO_SIZE
    top, bottom = np.array(look.backdrop, np.float32), np.array(_shade(look.backdrop, 0.7), np.float32)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    grad = np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).astype(np.uint8)
    img = Image.fromarray(np.dstack([grad, np.full((h, w), 255, np.uint8)]), "RGBA")
    box = _person(ImageDraw.Draw(img), look, w / 2, h * 0.42, w * 0.34)
    return _finish(img, box, opaque=True)


def preview_png(drawn: Drawn, backdrop: RGB = (236, 238, 242)) -> bytes:
    """The look over a light backdrop, as PNG bytes."""
    import io

    rgb = drawn.rgb.astype(np.float32)
    if drawn.alpha is not None:
        a = drawn.alpha[..., None]
        rgb = np.asarray(backdrop, np.float32) * (1 - a) + rgb * a
    buf = io.BytesIO()
    Image.fromarray((rgb + 0.5).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
