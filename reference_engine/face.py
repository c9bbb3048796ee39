"""Find the face, its eyes and its mouth in a portrait (OpenCV Haar cascades; nothing downloaded)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

Region = tuple[int, int, int, int]
"""(cx, cy, w, h): a centre and a size in pixels."""

_DETECT_SIDE = 480  # detect on an image no larger than this (the cascade cost grows with area)

# Where features sit inside a frontal Haar face box (fractions of the box), as found on real faces.
_EYE_Y, _EYE_DX, _EYE_W, _EYE_H = 0.40, 0.19, 0.22, 0.11
_MOUTH_Y, _MOUTH_W, _MOUTH_H = 0.77, 0.40, 0.16


@dataclass(frozen=True)
class FaceBox:
    """Face rectangle (x, y, w, h) with its mouth and eyes; detected=False means a guessed fallback."""

    x: int
    y: int
    w: int
    h: int
    mouth: Region
    eyes: tuple[Region, Region]
    detected: bool

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    def scaled(self, scale: float, dx: float = 0.0, dy: float = 0.0) -> FaceBox:
        """This box in another image where a point p maps to p * scale - (dx, dy)."""

        def px(v: float) -> int:
            return round(v * scale - dx)

        def py(v: float) -> int:
            return round(v * scale - dy)

        def sz(v: float) -> int:
            return max(1, round(v * scale))

        def region(r: Region) -> Region:
            return px(r[0]), py(r[1]), sz(r[2]), sz(r[3])

        return FaceBox(
            px(self.x), py(self.y), sz(self.w), sz(self.h),
            region(self.mouth), (region(self.eyes[0]), region(self.eyes[1])), self.detected,
        )  # fmt: skip


def face_from_box(x: int, y: int, w: int, h: int, *, detected: bool) -> FaceBox:
    """Derive eyes and mouth from a face rectangle by average frontal-face geometry."""
    eye_y = y + int(h * _EYE_Y)
    eyes = (
        (x + int(w * (0.5 - _EYE_DX)), eye_y, max(2, int(w * _EYE_W)), max(2, int(h * _EYE_H))),
        (x + int(w * (0.5 + _EYE_DX)), eye_y, max(2, int(w * _EYE_W)), max(2, int(h * _EYE_H))),
    )
    mouth = (x + w // 2, y + int(h * _MOUTH_Y), max(4, int(w * _MOUTH_W)), max(4, int(h * _MOUTH_H)))
    return FaceBox(x, y, w, h, mouth, eyes, detected)


def fallback_face(width: int, height: int) -> FaceBox:
    """A face guessed in the centre of the upper part of the frame."""
    side = int(min(width, height) * 0.45)
    x = (width - side) // 2
    y = max(0, int(height * 0.40) - side // 2)
    return face_from_box(x, y, side, side, detected=False)


@functools.lru_cache(maxsize=1)
def _cascade() -> object | None:
    try:
        import cv2
    except ImportError:  # pragma: no cover - opencv is a declared dependency
        return None
    make = getattr(cv2, "CascadeClassifier", None)
    data = getattr(cv2, "data", None)
    if make is None or data is None:  # OpenCV 5 moved the cascades out of the main wheel
        log.warning("OpenCV %s has no Haar cascades; faces fall back to the frame centre", cv2.__version__)
        return None
    cascade = make(data.haarcascades + "haarcascade_frontalface_alt2.xml")
    return None if cascade.empty() else cascade


def _gray(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Equalised grey image no larger than _DETECT_SIDE, and the factor back to full size."""
    import cv2

    h, w = rgb.shape[:2]
    factor = max(1.0, max(h, w) / _DETECT_SIDE)
    small = rgb if factor == 1.0 else cv2.resize(
        rgb, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA
    )
    gray = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY)
    return cv2.equalizeHist(gray), factor


def _refine_mouth(gray: np.ndarray, face: FaceBox, factor: float) -> FaceBox:
    """Move the mouth to the darkest horizontal line (the lip line) near its expected height."""
    cx, _cy, mw, _mh = (v / factor for v in face.mouth)
    x0, x1 = int(cx - mw * 0.3), int(cx + mw * 0.3)
    y0, y1 = int(face.y / factor + face.h / factor * 0.66), int(face.y / factor + face.h / factor * 0.88)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, gray.shape[1]), min(y1, gray.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 5:
        return face
    rows = gray[y0:y1, x0:x1].astype(np.float32).mean(axis=1)
    rows = np.convolve(rows, np.ones(3, np.float32) / 3, mode="same")
    best = int(np.argmin(rows[1:-1])) + 1
    if rows[best] > np.median(rows) - 8:  # no clear lip line: keep the geometric guess
        return face
    new_cy = round((y0 + best) * factor)
    return FaceBox(face.x, face.y, face.w, face.h, (face.mouth[0], new_cy, *face.mouth[2:]), face.eyes, True)


def locate_face(rgb: np.ndarray) -> FaceBox:
    """Find the largest frontal face in an RGB image; never raises (falls back with detected=False)."""
    height, width = rgb.shape[:2]
    try:
        cascade = _cascade()
        if cascade is None or min(height, width) < 24:
            return fallback_face(width, height)
        gray, factor = _gray(rgb)
        min_side = max(20, int(min(gray.shape) * 0.06))
        found = cascade.detectMultiScale(  # type: ignore[attr-defined]
            gray, scaleFactor=1.1, minNeighbors=4, minSize=(min_side, min_side)
        )
        if len(found) == 0:
            log.info("no face found in the %dx%d image; using the centre-upper third", width, height)
            return fallback_face(width, height)
        x, y, w, h = max((tuple(int(v) for v in f) for f in found), key=lambda f: f[2] * f[3])
        full = face_from_box(
            int(x * factor), int(y * factor), int(w * factor), int(h * factor), detected=True
        )
        return _refine_mouth(gray, full, factor)
    except Exception:  # the detector must never fail a job
        log.exception("face detection failed; using the centre-upper third")
        return fallback_face(width, height)
