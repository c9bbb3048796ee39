"""Face detection and 468 face-mesh landmarks: MediaPipe's TFLite models run by OpenCV's DNN module.

Both models ship in `models/` (see its NOTICE); nothing is downloaded and MediaPipe is not needed.
BlazeFace (short range) finds face boxes with six keypoints in a 128x128 view of the image; the face
mesh places 468 points in a 192x192 crop around a face, turned upright by the eye line, and says
how sure it is that the crop holds a face at all.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib import resources

import cv2
import numpy as np

MODELS = {
    "face_landmark.tflite": "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    "face_detection_short_range.tflite": "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
}
"""The committed model files and their sha256."""

DETECT_SIDE = 128
MESH_SIDE = 192
MIN_DETECTION_SCORE = 0.5  # MediaPipe's own threshold
MIN_FACE_SCORE = 0.9  # stricter than MediaPipe's 0.5: a cat's eye can reach 0.85, real faces score 0.99+
_ROI_SCALE = 1.5  # the mesh crop is 1.5x the face, as MediaPipe crops it
_NMS_IOU = 0.3

_lock = threading.Lock()  # a cv2.dnn.Net is not safe to run from two threads at once


@dataclass(frozen=True)
class Detection:
    """One BlazeFace hit in image pixels: score, box centre and size, and 6 keypoints.

    Keypoints, as the person sees them: right eye, left eye, nose tip, mouth centre, right ear, left ear.
    """

    score: float
    cx: float
    cy: float
    w: float
    h: float
    keypoints: np.ndarray  # (6, 2) float32


@dataclass(frozen=True)
class Roi:
    """A square crop turned by `angle` (radians, the eye line's slope) around a centre."""

    cx: float
    cy: float
    size: float
    angle: float

    def matrix(self, side: int) -> np.ndarray:
        """2x3 affine map from crop pixels (side x side) to image pixels."""
        k = self.size / side
        c, s = np.cos(self.angle), np.sin(self.angle)
        m = np.array([[k * c, -k * s, 0.0], [k * s, k * c, 0.0]])
        m[:, 2] = np.array([self.cx, self.cy]) - m[:, :2] @ np.array([side / 2, side / 2])
        return m


@dataclass(frozen=True)
class Mesh:
    """468 landmarks (x, y in image pixels) and the model's confidence (0..1) that they lie on a face."""

    points: np.ndarray  # (468, 2) float32
    score: float


def model_bytes(name: str) -> bytes:
    """The bytes of a committed model file (found from the installed package)."""
    return resources.files(__package__).joinpath("models", name).read_bytes()


@functools.lru_cache(maxsize=1)
def _nets() -> tuple[cv2.dnn.Net, cv2.dnn.Net]:
    cv2.setNumThreads(1)  # one thread: as fast for these small nets, and the same numbers everywhere
    load = cv2.dnn.readNetFromTFLite
    detector = load(np.frombuffer(model_bytes("face_detection_short_range.tflite"), np.uint8))
    mesh = load(np.frombuffer(model_bytes("face_landmark.tflite"), np.uint8))
    return detector, mesh


@functools.lru_cache(maxsize=1)
def _anchors() -> np.ndarray:
    """BlazeFace's 896 SSD anchor centres (x, y in 0..1): 2 per cell of 16x16, 6 per cell of 8x8."""
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = DETECT_SIDE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


def _run(net: cv2.dnn.Net, rgb01: np.ndarray) -> list[np.ndarray]:
    blob = np.ascontiguousarray(rgb01.transpose(2, 0, 1)[None], dtype=np.float32)
    with _lock:
        net.setInput(blob)
        return [np.array(o) for o in net.forward(net.getUnconnectedOutLayersNames())]


def _detect_view(rgb: np.ndarray, x0: int, y0: int, side: int) -> list[Detection]:
    """BlazeFace on the square view (x0, y0, side) of `rgb`, padded with black where it leaves the image."""
    h, w = rgb.shape[:2]
    view = np.zeros((side, side, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    view[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    small = cv2.resize(view, (DETECT_SIDE, DETECT_SIDE), interpolation=cv2.INTER_AREA)
    outs = _run(_nets()[0], small.astype(np.float32) / 127.5 - 1.0)
    scores = next(o for o in outs if o.size == 896).reshape(-1)
    boxes = next(o for o in outs if o.size == 896 * 16).reshape(-1, 16)
    scores = 1.0 / (1.0 + np.exp(-np.clip(scores.astype(np.float64), -50.0, 50.0)))
    found = []
    anchors = _anchors()
    for i in np.flatnonzero(scores >= MIN_DETECTION_SCORE):
        raw = boxes[i] / DETECT_SIDE
        ax, ay = anchors[i]
        pts = raw[4:16].reshape(6, 2) + np.array([ax, ay])
        found.append(Detection(
            float(scores[i]), float((raw[0] + ax) * side + x0), float((raw[1] + ay) * side + y0),
            float(raw[2] * side), float(raw[3] * side), (pts * side + (x0, y0)).astype(np.float32),
        ))  # fmt: skip
    return found


def _iou(a: Detection, b: Detection) -> float:
    ix = min(a.cx + a.w / 2, b.cx + b.w / 2) - max(a.cx - a.w / 2, b.cx - b.w / 2)
    iy = min(a.cy + a.h / 2, b.cy + b.h / 2) - max(a.cy - a.h / 2, b.cy - b.h / 2)
    inter = max(0.0, ix) * max(0.0, iy)
    return inter / max(1e-9, a.w * a.h + b.w * b.h - inter)


def _weighted_nms(found: list[Detection]) -> list[Detection]:
    """Merge overlapping hits into their score-weighted mean, as MediaPipe does."""
    pending = sorted(found, key=lambda d: -d.score)
    merged = []
    while pending:
        best = pending[0]
        group = [d for d in pending if _iou(best, d) > _NMS_IOU]
        pending = [d for d in pending if _iou(best, d) <= _NMS_IOU]
        wts = np.array([d.score for d in group])
        wts = wts / wts.sum()
        cx, cy, w, h = wts @ np.array([[d.cx, d.cy, d.w, d.h] for d in group])
        keypoints = np.tensordot(wts, np.stack([d.keypoints for d in group]), 1).astype(np.float32)
        merged.append(Detection(best.score, float(cx), float(cy), float(w), float(h), keypoints))
    return merged


DETECTION_LEVELS = (1, 2, 3)
"""Views per side: the whole image, then half-overlapping tiles of 1/2 and 1/3 of its longer side."""


def detect_faces(rgb: np.ndarray, parts: int = 1) -> list[Detection]:
    """The faces BlazeFace finds in an RGB uint8 image looked at in tiles of 1/parts of its longer side.

    parts=1 looks at the whole image and finds faces down to about a sixth of its longer side; each
    finer level finds faces that much smaller (1/3: about a twentieth), at (2*parts-1)**2 passes.
    """
    h, w = rgb.shape[:2]
    side = max(h, w)
    if parts == 1:
        return _weighted_nms(_detect_view(rgb, (w - side) // 2, (h - side) // 2, side))
    tile = side // parts
    if tile < DETECT_SIDE:
        return []
    found: list[Detection] = []
    steps = 2 * parts - 1
    for ty in np.linspace(0, max(0, h - tile), steps if h > tile else 1):
        for tx in np.linspace(0, max(0, w - tile), steps if w > tile else 1):
            found += _detect_view(rgb, int(tx), int(ty), tile)
    return _weighted_nms(found)


def roi_from_detection(d: Detection) -> Roi:
    """The mesh crop for a detection: 1.5x its box, turned by the line from the right eye to the left."""
    eye = d.keypoints[1] - d.keypoints[0]
    return Roi(d.cx, d.cy, _ROI_SCALE * max(d.w, d.h), float(np.arctan2(eye[1], eye[0])))


def roi_from_points(points: np.ndarray) -> Roi:
    """The mesh crop around earlier landmarks: their box in the face's own frame, 1.5x, turned by the eyes."""
    eye = points[263] - points[33]
    angle = float(np.arctan2(eye[1], eye[0]))
    c, s = np.cos(angle), np.sin(angle)
    turn = np.array([[c, s], [-s, c]])
    q = points @ turn.T
    lo, hi = q.min(axis=0), q.max(axis=0)
    centre = ((lo + hi) / 2) @ turn
    return Roi(float(centre[0]), float(centre[1]), _ROI_SCALE * float((hi - lo).max()), angle)


def mesh_pass(rgb: np.ndarray, roi: Roi) -> Mesh:
    """One face-mesh pass on the crop `roi` of an RGB uint8 image."""
    m = roi.matrix(MESH_SIDE)
    crop = cv2.warpAffine(rgb, m, (MESH_SIDE, MESH_SIDE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    outs = _run(_nets()[1], crop.astype(np.float32) / 255.0)
    pts = next(o for o in outs if o.size == 468 * 3).reshape(468, 3)[:, :2].astype(np.float64)
    flag = float(next(o for o in outs if o.size == 1).reshape(()))
    score = 1.0 / (1.0 + np.exp(-min(50.0, max(-50.0, flag))))
    return Mesh((pts @ m[:, :2].T + m[:, 2]).astype(np.float32), float(score))


def face_mesh(rgb: np.ndarray, roi: Roi) -> Mesh:
    """Landmarks from two passes, the second cropped around what the first found (as MediaPipe tracks).

    The score is the lower of the two: a face must convince the model from both crops.
    """
    first = mesh_pass(rgb, roi)
    if first.score < MIN_FACE_SCORE:
        return first
    second = mesh_pass(rgb, roi_from_points(first.points))
    return Mesh(second.points, min(first.score, second.score))
