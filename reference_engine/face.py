"""Find the face in a portrait and its 468 landmarks (BlazeFace + MediaPipe face mesh; nothing downloaded).

With several faces the largest, most central one is taken. When no face is found the result says so
(`detected=False`, a box guessed in the upper centre for framing only): nothing facial is animated
then, so features are never painted on something that is not a face.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .landmarks import DETECTION_LEVELS, MIN_FACE_SCORE, Detection, Roi, detect_faces, face_mesh, roi_from_detection

log = logging.getLogger(__name__)

Region = tuple[int, int, int, int]
"""(cx, cy, w, h): a centre and a size in pixels."""

# Face-mesh landmark indices (MediaPipe's canonical 468-point topology), ordered from the person's
# right (image left) to left; a contour shares its end points with its partner.
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
JAW = (58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
RIGHT_BROW = (70, 63, 105, 66, 107)
LEFT_EYE_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
LEFT_EYE_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
LEFT_BROW = (336, 296, 334, 293, 300)
MOUTH_CORNERS = (61, 291)
NOSE_TIP, NOSE_BASE, CHIN = 1, 2, 152
INNER_LIPS = (13, 14)

# Where features sit inside a face box (fractions of the box), for faces known only by their box.
_EYE_Y, _EYE_DX, _EYE_W, _EYE_H = 0.40, 0.19, 0.22, 0.11
_MOUTH_Y, _MOUTH_W, _MOUTH_H = 0.77, 0.40, 0.16
_CANDIDATES = 3  # detections per level checked with the face mesh


@dataclass(frozen=True, eq=False)
class FaceBox:
    """A face: its box (x, y, w, h), whether it is a real face, and its landmarks once located.

    detected=False: no face was found and the box is only a guess for framing. points: (468, 2)
    float32 face-mesh landmarks in image pixels, or None while only the box is known (a drawn
    catalog face, for example); `with_landmarks` fills them in.
    """

    x: int
    y: int
    w: int
    h: int
    detected: bool
    points: np.ndarray | None = None
    score: float = 0.0
    """The face mesh's confidence that the landmarks lie on a face (0 when not located)."""

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    @property
    def mouth(self) -> Region:
        """Centre and size of the lips."""
        if self.points is None:
            return (self.x + self.w // 2, self.y + int(self.h * _MOUTH_Y),
                    max(4, int(self.w * _MOUTH_W)), max(4, int(self.h * _MOUTH_H)))  # fmt: skip
        return _region(self.points, LIPS_OUTER_UPPER + LIPS_OUTER_LOWER)

    @property
    def eyes(self) -> tuple[Region, Region]:
        """Centre and size of the right and left eye (as the person sees them)."""
        if self.points is None:
            ey, ew, eh = self.y + int(self.h * _EYE_Y), max(2, int(self.w * _EYE_W)), max(2, int(self.h * _EYE_H))
            right, left = self.x + int(self.w * (0.5 - _EYE_DX)), self.x + int(self.w * (0.5 + _EYE_DX))
            return (right, ey, ew, eh), (left, ey, ew, eh)
        return (_region(self.points, RIGHT_EYE_UPPER + RIGHT_EYE_LOWER),
                _region(self.points, LEFT_EYE_UPPER + LEFT_EYE_LOWER))  # fmt: skip

    def scaled(self, scale: float, dx: float = 0.0, dy: float = 0.0) -> FaceBox:
        """This face in another image where a point p maps to p * scale - (dx, dy)."""
        points = None if self.points is None else (self.points * scale - np.array([dx, dy])).astype(np.float32)
        return FaceBox(round(self.x * scale - dx), round(self.y * scale - dy), max(1, round(self.w * scale)),
                       max(1, round(self.h * scale)), self.detected, points, self.score)  # fmt: skip


def _region(points: np.ndarray, indices: tuple[int, ...]) -> Region:
    pts = points[list(indices)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    cx, cy = round((lo[0] + hi[0]) / 2), round((lo[1] + hi[1]) / 2)
    return cx, cy, max(2, round(hi[0] - lo[0])), max(2, round(hi[1] - lo[1]))


def face_from_box(x: int, y: int, w: int, h: int, *, detected: bool) -> FaceBox:
    """A face known only by its box (its landmarks are located later, on the image it is animated in)."""
    return FaceBox(x, y, w, h, detected)


def face_from_points(points: np.ndarray, score: float) -> FaceBox:
    """The face whose landmarks are `points`: its box is theirs."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    x, y = int(np.floor(lo[0])), int(np.floor(lo[1]))
    return FaceBox(x, y, max(1, int(np.ceil(hi[0])) - x), max(1, int(np.ceil(hi[1])) - y), True,
                   points.astype(np.float32), score)  # fmt: skip


def fallback_face(width: int, height: int) -> FaceBox:
    """No face: a box guessed in the centre of the upper part of the frame, for framing only."""
    side = int(min(width, height) * 0.45)
    x = (width - side) // 2
    y = max(0, int(height * 0.40) - side // 2)
    return FaceBox(x, y, side, side, False)


def _ranked(width: int, height: int, found: list[Detection]) -> list[Detection]:
    """Largest and most central first: size weighed down by up to 25% for distance from the centre."""
    half_diag = np.hypot(width, height) / 2

    def key(d: Detection) -> float:
        off = np.hypot(d.cx - width / 2, d.cy - height / 2) / half_diag
        return max(d.w, d.h) * (1.0 - 0.25 * min(1.0, float(off)))

    return sorted(found, key=key, reverse=True)


def locate_face(rgb: np.ndarray) -> FaceBox:
    """The largest, most central face of an RGB image with its landmarks; never raises.

    Each detection level (whole image, then finer tiles) offers up to _CANDIDATES faces, best first;
    the first the face mesh agrees is a face wins. Returns fallback_face (detected=False) otherwise.
    """
    height, width = rgb.shape[:2]
    try:
        if min(height, width) < 24:
            return fallback_face(width, height)
        image = np.ascontiguousarray(rgb, dtype=np.uint8)
        for parts in DETECTION_LEVELS:
            for candidate in _ranked(width, height, detect_faces(image, parts))[:_CANDIDATES]:
                mesh = face_mesh(image, roi_from_detection(candidate))
                if mesh.score >= MIN_FACE_SCORE:
                    return face_from_points(mesh.points, mesh.score)
                log.info("the face mesh sees no face where BlazeFace saw one (score %.2f)", mesh.score)
        log.info("no face found in the %dx%d image", width, height)
    except Exception:  # the detector must never fail a job
        log.exception("face detection failed")
    return fallback_face(width, height)


def with_landmarks(rgb: np.ndarray, face: FaceBox) -> FaceBox:
    """`face` with its landmarks located on `rgb` (where only its box was known); never raises.

    A box the face mesh does not agree holds a face comes back with detected=False.
    """
    if not face.detected or face.points is not None:
        return face
    try:
        roi = Roi(face.x + face.w / 2, face.y + face.h / 2, 1.5 * max(face.w, face.h), 0.0)
        mesh = face_mesh(np.ascontiguousarray(rgb, dtype=np.uint8), roi)
    except Exception:
        log.exception("face landmarks failed")
        return FaceBox(face.x, face.y, face.w, face.h, False)
    if mesh.score < MIN_FACE_SCORE:
        return FaceBox(face.x, face.y, face.w, face.h, False)
    return face_from_points(mesh.points, mesh.score)
