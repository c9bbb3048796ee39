"""What moves on a face, from its landmarks: the jaw and lower lip, and both upper eyelids.

Each rig turns a level (how open the mouth is, how closed the eyes are) into cached plane edits
(`warp.PlaneEdit`), built the first time a level is used.

- The mouth opens by warping the lower lip and the jaw down: in every column of a region from the
  nose base to below the chin, source rows [nose base, upper inner lip, lower inner lip, chin, bottom]
  go to [the same, upper lip lifted a little, lower lip dropped by D*t(u), chin dropped by D*h(u),
  the same]. t is lens-shaped and zero at the mouth corners, h a cosine bell across the region. The
  upper lip and the teeth under it stay with the skull; the opened gap is filled dark, softly edged.
- An eyelid closes by stretching the skin between brow and upper lid down over the eye, so the lid
  is the person's own skin and lashes; the lid edge runs from the upper lid contour to the lower one.
"""

from __future__ import annotations

import numpy as np

from .face import (
    JAW,
    LEFT_BROW,
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    LIPS_INNER_LOWER,
    LIPS_INNER_UPPER,
    LIPS_OUTER_LOWER,
    MOUTH_CORNERS,
    NOSE_BASE,
    RIGHT_BROW,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    FaceBox,
)
from .warp import SUBSAMPLING, Box, FaceFrame, Knots, PlaneEdit, build_edits, plane_edit, source_rows

INNER_MOUTH_Y, TONGUE_Y = 30, 62  # the back of the mouth is dark; toward the lower lip, a dim tongue
MAX_OPENING = 0.20  # the jaw drops at most this fraction of the mouth's width
MAX_LEVELS = 12  # cached openings at most (finer steps than a pixel are not seen)
LIP_LIFT = 0.12  # the upper lip rises this fraction of the jaw drop
EYELID_LEVELS = 10


def _interp(frame: FaceFrame, points: np.ndarray, us: np.ndarray) -> np.ndarray:
    pu, pv = frame.profile(points)
    return np.interp(us, pu, pv)


class MouthRig:
    """Jaw-and-lip opening of one face, cached per integer level (1 level = about 1 pixel of drop)."""

    def __init__(self, face: FaceBox, width: int, height: int, margin: int,
                 lips_uv: tuple[float, float] = (150.0, 160.0)) -> None:  # fmt: skip
        """lips_uv: the lips' chroma in the picture; the inner mouth takes its hue from them (none on grey)."""
        pts = face.points
        if pts is None:
            raise ValueError("the mouth rig needs the face's landmarks")
        u0, v0 = lips_uv[0] - 128.0, lips_uv[1] - 128.0
        self.inner = (INNER_MOUTH_Y, 128.0 + 0.4 * u0, 128.0 + 0.5 * v0)
        self.tongue = (TONGUE_Y, 128.0 + 0.7 * u0, 128.0 + 1.0 * v0)
        self.frame = FaceFrame.through(pts[MOUTH_CORNERS[0]], pts[MOUTH_CORNERS[1]])
        f = self.frame
        self.half = max(2.0, float(np.hypot(*(pts[MOUTH_CORNERS[1]] - pts[MOUTH_CORNERS[0]]))) / 2)
        self.max_drop = max(2.0, MAX_OPENING * 2 * self.half)
        self.levels = int(np.clip(round(self.max_drop), 1, MAX_LEVELS))
        reach = 1.75 * self.half
        self.us = np.linspace(-reach, reach, 49)
        us = self.us
        self.upper = _interp(f, pts[list(LIPS_INNER_UPPER)], us)
        self.lower = np.maximum(_interp(f, pts[list(LIPS_INNER_LOWER)], us), self.upper)
        outer_lower = _interp(f, pts[list(LIPS_OUTER_LOWER)], us)
        self.jaw = np.maximum(_interp(f, pts[list(JAW)], us), outer_lower + 1.0)
        _, nose_v = f.to_face(np.array([pts[NOSE_BASE][0]], np.float64), np.array([pts[NOSE_BASE][1]], np.float64))
        centre = len(us) // 2
        self.top = np.minimum(float(nose_v[0]), self.upper - 1.0)
        chin_gap = float(self.jaw[centre] - self.lower[centre])
        self.bottom = self.jaw + max(3.0 * self.max_drop, 0.8 * chin_gap)
        a = np.clip(1.0 - (us / self.half) ** 2, 0.0, 1.0)
        self.t = a**0.6  # lens: 1 in the middle, 0 at the corners
        self.h = np.cos(np.clip(us / reach, -1.0, 1.0) * np.pi / 2) ** 2  # bell across the whole region
        self.edge = max(0.9, 0.06 * self.half)
        x0, x1, y0, y1 = f.bounds(-reach, reach, float(self.top.min()), float((self.bottom + self.max_drop).max()))
        self.box = Box.around(x0, x1, y0, y1, width, height, margin)
        self._cache: dict[int, list[PlaneEdit]] = {}
        self._grid: dict[int, dict[str, np.ndarray]] = {}

    def drop(self, level: int) -> float:
        return level * self.max_drop / self.levels

    def _pixels(self, plane: int) -> dict[str, np.ndarray]:
        """Per pixel of the box in `plane`: its (u, v) and every level-independent row, interpolated once."""
        if plane not in self._grid:
            assert self.box is not None
            u, v = self.frame.to_face(*self.box.grid(SUBSAMPLING[plane]))
            rows = {"top": self.top, "upper": self.upper, "lower": self.lower, "jaw": self.jaw,
                    "bottom": self.bottom, "t": self.t, "h": self.h}  # fmt: skip
            out = {name: np.interp(u, self.us, row) for name, row in rows.items()}
            out["u"], out["v"] = u, v
            out["inside"] = (u >= self.us[0]) & (u <= self.us[-1])
            self._grid[plane] = out
        return self._grid[plane]

    def _plane(self, plane: int, level: int) -> PlaneEdit:
        """Rows [top, upper, upper + band, lower, jaw, bottom] go to [top, upper - lift, lower - lift,
        lower + d*t, jaw + d*h, bottom]; the dark inner mouth fills [lower - lift, lower + d*t]."""
        assert self.box is not None
        g = self._pixels(plane)
        d = self.drop(level)
        lift = LIP_LIFT * d * g["t"]
        lip, chin = g["lower"] + d * g["t"], g["jaw"] + d * g["h"]
        dst = [g["top"], g["upper"] - lift, g["lower"] - lift, lip, chin, g["bottom"]]
        for k in range(1, len(dst)):  # rows never cross (np.maximum.accumulate on a stack is 3x slower)
            dst[k] = np.maximum(dst[k], dst[k - 1])
        src = [g["top"], g["upper"], g["lower"], g["lower"], g["jaw"], g["bottom"]]
        v = g["v"]
        sv = np.where(g["inside"], source_rows(v, dst, src), v)
        gap0, gap1 = g["lower"] - lift, lip
        edge = self.edge
        inside = np.clip((v - gap0) / edge + 0.5, 0.0, 1.0) * np.clip((gap1 - v) / edge + 0.5, 0.0, 1.0)
        depth = np.clip((gap1 - gap0) / (3.0 * edge), 0.0, 1.0)  # a sliver of a gap is only shaded
        alpha = inside * (0.35 + 0.6 * depth) * (np.abs(g["u"]) < self.half)
        low = np.clip(((v - gap0) / np.maximum(gap1 - gap0, 1e-6) - 0.5) / 0.5, 0.0, 1.0) ** 2 * 0.7
        value = self.inner[plane] + low * (self.tongue[plane] - self.inner[plane])
        return plane_edit(self.frame, self.box, plane, g["u"], sv, (alpha, value))

    def edits(self, level: int) -> list[PlaneEdit]:
        """Plane edits that open the mouth to `level` (0 < level <= levels)."""
        if level not in self._cache:
            self._cache[level] = [] if self.box is None else [self._plane(p, level) for p in range(3)]
        return self._cache[level]


class EyelidRig:
    """Both upper eyelids closing together, cached per level (EYELID_LEVELS = fully closed)."""

    def __init__(self, face: FaceBox, width: int, height: int, margin: int) -> None:
        pts = face.points
        if pts is None:
            raise ValueError("the eyelid rig needs the face's landmarks")
        self.eyes = []
        for upper, lower, brow in ((RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, RIGHT_BROW),
                                   (LEFT_EYE_UPPER, LEFT_EYE_LOWER, LEFT_BROW)):  # fmt: skip
            frame = FaceFrame.through(pts[upper[0]], pts[upper[-1]])
            half = max(1.5, float(np.hypot(*(pts[upper[-1]] - pts[upper[0]]))) / 2)
            us = np.linspace(-1.15 * half, 1.15 * half, 25)
            up = _interp(frame, pts[list(upper)], us)
            low = np.maximum(_interp(frame, pts[list(lower)], us), up)
            beyond = np.abs(us) > half  # past the corners nothing moves
            up, low = np.where(beyond, 0.0, up), np.where(beyond, 0.0, low)
            brow_v = _interp(frame, pts[list(brow)], us)
            opening = float(max(1.0, (low - up).max()))
            top = np.minimum(up - 1.0, np.maximum(brow_v + 0.35 * (up - brow_v), up - 1.6 * opening))
            top = np.where(beyond, np.minimum(up, top.min()), top)
            bottom = low + max(1.5, 0.3 * opening)
            x0, x1, y0, y1 = frame.bounds(float(us[0]), float(us[-1]), float(top.min()), float(bottom.max()))
            self.eyes.append((frame, us, top, up, low, bottom, Box.around(x0, x1, y0, y1, width, height, margin)))
        self.levels = EYELID_LEVELS
        self._cache: dict[int, list[PlaneEdit]] = {}

    def knots(self, eye: int, level: int) -> Knots:
        _, us, top, up, low, bottom, _ = self.eyes[eye]
        b = level / self.levels
        lid = up + b * (low - up) * 1.12  # closed, the lid reaches just past the lower lid's line
        soft = np.minimum(0.5, 0.5 * (lid - up))  # a half-pixel ramp keeps the lid edge from stair-stepping
        dst = np.stack([top, lid - soft, lid + soft, bottom])
        src = np.stack([top, up, lid + soft, bottom])
        return us, dst, src

    def edits(self, level: int) -> list[PlaneEdit]:
        """Plane edits that close both eyes to `level` (0 < level <= levels)."""
        if level not in self._cache:
            out: list[PlaneEdit] = []
            for i, (frame, *_rest, box) in enumerate(self.eyes):
                if box is not None:
                    out += build_edits(frame, self.knots(i, level), box)
            self._cache[level] = out
        return self._cache[level]
