"""Where a character lands in the frame: scale, offset and style (normal, closeUp, circle, square).

The result is a sprite cut to the visible part of the frame (so a scale of 5 costs no more than 1),
with even sides, its alpha, and the face box in sprite coordinates for the animator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .compose import circle_mask
from .face import FaceBox, locate_face

MIN_SIDE = 16


@dataclass(frozen=True)
class Character:
    """A look to animate: RGB (HxWx3 uint8), optional alpha (HxW float32 0..1) and its face.

    kind `avatar`: scale 1 is the full frame height, bottom-aligned and centred; `talking_photo`:
    scale 1 fits the photo inside the frame, centred. `offset` moves it by fractions of the frame
    (x right, y down). `style` normal | closeUp | circle | square; circle/square show a disc/square
    around the face on `circle_color`, its diameter half the frame's shorter side times `scale`.
    """

    image: np.ndarray
    alpha: np.ndarray | None = None
    face: FaceBox | None = None
    kind: str = "avatar"
    style: str = "normal"
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)
    circle_color: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class Placed:
    rgb: np.ndarray
    alpha: np.ndarray | None
    x: int
    y: int
    face: FaceBox | None = field(default=None)


def _crop(char_img: np.ndarray, alpha: np.ndarray | None, face: FaceBox, box: tuple[int, int, int, int]
          ) -> tuple[np.ndarray, np.ndarray | None, FaceBox]:  # fmt: skip
    """Crop (x0, y0, x1, y1), padding with transparent pixels where the box leaves the image."""
    h, w = char_img.shape[:2]
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
    out_a = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = char_img[sy0:sy1, sx0:sx1]
        out_a[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = 1.0 if alpha is None else alpha[sy0:sy1, sx0:sx1]
    return out, out_a, face.scaled(1.0, x0, y0)


def _source(char: Character, width: int, height: int
            ) -> tuple[np.ndarray, np.ndarray | None, FaceBox, tuple[float, float, float, float]]:  # fmt: skip
    """The source pixels to show and the target box (x, y, w, h) they are scaled into."""
    img, alpha = char.image, char.alpha
    face = char.face if char.face is not None else locate_face(img)
    h, w = img.shape[:2]
    ox, oy = char.offset[0] * width, char.offset[1] * height
    if char.style in ("circle", "square"):
        side = int(2.6 * max(face.w, face.h))
        cx, cy = face.x + face.w // 2, face.y + int(face.h * 0.7)
        crop, crop_a, face = _crop(img, alpha, face, (cx - side // 2, cy - side // 2, cx + side - side // 2,
                                                      cy + side - side // 2))  # fmt: skip
        plate = np.empty_like(crop)
        plate[...] = char.circle_color
        a = crop_a[..., None] if crop_a is not None else 1.0
        img = (plate + (crop.astype(np.float32) - plate) * a + 0.5).astype(np.uint8)
        alpha = circle_mask(side) if char.style == "circle" else None
        d = min(width, height) * 0.5 * char.scale
        return img, alpha, face, (width / 2 + ox - d / 2, height / 2 + oy - d / 2, d, d)
    if char.kind == "avatar":
        if char.style == "closeUp":
            top = max(0, int(face.y - 0.45 * face.h))
            bottom = min(h, int(face.y + 2.6 * face.h))
            img, alpha, face = _crop(img, alpha, face, (0, top, w, max(bottom, top + 2)))
            h, w = img.shape[:2]
        th = height * char.scale
        tw = w * th / h
        return img, alpha, face, (width / 2 + ox - tw / 2, height + oy - th, tw, th)
    k = min(width / w, height / h) * char.scale
    tw, th = w * k, h * k
    return img, alpha, face, (width / 2 + ox - tw / 2, height / 2 + oy - th / 2, tw, th)


def place(char: Character, width: int, height: int) -> Placed | None:
    """The visible sprite of `char` in a width x height frame; None when it is not visible."""
    img, alpha, face, (tx, ty, tw, th) = _source(char, width, height)
    if tw < 1 or th < 1:
        return None
    vx0, vy0 = max(0, int(np.floor(tx))), max(0, int(np.floor(ty)))
    vx1, vy1 = min(width, int(np.ceil(tx + tw))), min(height, int(np.ceil(ty + th)))
    vx1 -= (vx1 - vx0) % 2
    vy1 -= (vy1 - vy0) % 2
    if vx1 - vx0 < MIN_SIDE or vy1 - vy0 < MIN_SIDE:
        return None
    h, w = img.shape[:2]
    kx, ky = tw / w, th / h
    box = (max(0.0, (vx0 - tx) / kx), max(0.0, (vy0 - ty) / ky), min(w, (vx1 - tx) / kx), min(h, (vy1 - ty) / ky))
    size = (vx1 - vx0, vy1 - vy0)
    rgb = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BILINEAR, box=box)).copy()
    sprite_alpha = None
    if alpha is not None:
        a = Image.fromarray(alpha.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR, box=box)
        sprite_alpha = np.clip(np.asarray(a, dtype=np.float32), 0.0, 1.0)
    sprite_face = face.scaled(kx, box[0] * kx, box[1] * ky)
    fx, fy = sprite_face.center
    animate = 0 <= fx < size[0] and 0 <= fy < size[1] and sprite_face.w >= 12 and sprite_face.h >= 12
    return Placed(rgb, sprite_alpha, vx0, vy0, sprite_face if animate else None)
