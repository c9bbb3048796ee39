"""`python -m reference_engine.gallery`: contact sheets of the engine's faces on real photographs.

For each portrait one PNG shows the face at rest, with the mouth half open, fully open, and with
the eyes closed, as the renderer draws them. The photographs come from scikit-image's sample data
(a development dependency: `pip install scikit-image`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .animate import FaceAnimator
from .compose import font
from .face import locate_face
from .image import fit_cover

SIDE = 512  # the portrait is fitted to SIDE x SIDE, as a render of that size would fit it
TILE = 224
STATES = (("rest", 0.0, 0.0), ("half open", 0.5, 0.0), ("open", 1.0, 0.0), ("blink", 0.0, 1.0))


def _photos() -> dict[str, Callable[[], np.ndarray]]:
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - a development tool
        raise SystemExit("the gallery needs scikit-image: pip install scikit-image") from exc

    def tilted(img: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
        turn = cv2.getRotationMatrix2D(centre, degrees, 1.0)
        return cv2.warpAffine(img, turn, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT_101)

    def small_on_rocket() -> np.ndarray:
        scene = np.ascontiguousarray(data.rocket())[:, :600].copy()
        scene[40:148, 400:492] = cv2.resize(data.astronaut()[20:290, 110:340], (92, 108), interpolation=cv2.INTER_AREA)
        return scene

    return {
        "astronaut": data.astronaut,
        "astronaut-tilted": lambda: tilted(data.astronaut(), 20.0, (224.0, 130.0)),
        "astronaut-small-on-a-busy-scene": small_on_rocket,
        "cameraman": lambda: np.dstack([data.camera()] * 3),
        "cat-no-face": data.chelsea,
    }


def contact_sheet(rgb: np.ndarray, title: str) -> Image.Image:
    """The four states of the face in `rgb` side by side, labelled; a photo without a face says so."""
    face = locate_face(rgb)
    fitted, scale, cx, cy = fit_cover(rgb, SIDE, SIDE, center=face.center)
    animator = FaceAnimator(fitted, np.zeros(SIDE, np.float32), face=face.scaled(scale, cx, cy))
    f = animator.face
    if animator.animated:
        half = int(max(f.w, f.h) * 0.8)
        mx, my = f.x + f.w // 2, f.y + f.h // 2 + f.h // 10
        x0, y0 = int(np.clip(mx - half, 0, SIDE - 2 * half)), int(np.clip(my - half, 0, SIDE - 2 * half))
        crop = (x0, y0, x0 + 2 * half, y0 + 2 * half)
        tiles = [(name, animator.pose(m, e)) for name, m, e in STATES]
    else:
        crop = (0, 0, SIDE, SIDE)
        tiles = [("no face found: shown still", animator.pose(0.0, 0.0))]
    label_h = 22
    sheet = Image.new("RGB", (TILE * len(tiles), TILE + 2 * label_h), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    draw.text((6, 3), title, fill=(20, 20, 20), font=font(15))
    for i, (name, frame) in enumerate(tiles):
        tile = Image.fromarray(frame).crop(crop).resize((TILE, TILE), Image.Resampling.LANCZOS)
        sheet.paste(tile, (i * TILE, label_h))
        draw.text((i * TILE + 6, label_h + TILE + 3), name, fill=(20, 20, 20), font=font(14))
    return sheet


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference_engine.gallery", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, load in _photos().items():
        path = args.out / f"{name}.png"
        contact_sheet(np.ascontiguousarray(load(), dtype=np.uint8), name).save(path, optimize=True)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
