"""Smooth local warps of YUV 4:2:0 planes, built once as `cv2.remap` maps and replayed per frame.

A warp lives in a face-aligned frame: u runs along the face (from the person's right to their left),
v runs down it. For every column u it maps a few destination rows ("knots") to source rows and
interpolates linearly between them, so rows above the first knot and below the last stay put, and
the displacement fades to nothing where source and destination knots coincide.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
SUBSAMPLING = (1, 2, 2)  # Y, U, V


@dataclass(frozen=True)
class FaceFrame:
    """An origin and two unit axes in image pixels: `ex` along the face, `ey` down it (ey is ex turned +90°)."""

    origin: np.ndarray
    ex: np.ndarray

    @classmethod
    def through(cls, a: np.ndarray, b: np.ndarray) -> FaceFrame:
        """The frame centred between points a and b, with u running from a to b."""
        d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
        return cls((np.asarray(a, np.float64) + b) / 2, d / max(1e-9, float(np.hypot(*d))))

    @property
    def ey(self) -> np.ndarray:
        return np.array([-self.ex[1], self.ex[0]])

    def to_face(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = x - self.origin[0], y - self.origin[1]
        return dx * self.ex[0] + dy * self.ex[1], dx * self.ey[0] + dy * self.ey[1]

    def to_image(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (self.origin[0] + u * self.ex[0] + v * self.ey[0], self.origin[1] + u * self.ex[1] + v * self.ey[1])

    def profile(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of landmark points sorted by u: a contour as a function v(u) for np.interp."""
        u, v = self.to_face(points[:, 0].astype(np.float64), points[:, 1].astype(np.float64))
        order = np.argsort(u, kind="stable")
        return u[order], v[order]

    def bounds(self, u0: float, u1: float, v0: float, v1: float) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1): the image box around the face-frame rectangle [u0, u1] x [v0, v1]."""
        xs, ys = self.to_image(np.array([u0, u1, u0, u1]), np.array([v0, v0, v1, v1]))
        return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())


@dataclass(frozen=True)
class Box:
    """An even-aligned region (x0, x1, y0, y1) of the full-resolution picture."""

    x0: int
    x1: int
    y0: int
    y1: int

    @classmethod
    def around(cls, x0: float, x1: float, y0: float, y1: float, width: int, height: int, margin: int) -> Box | None:
        """The even box covering (x0..x1, y0..y1), kept `margin` pixels inside the picture; None if empty."""
        a, b = max(margin, int(np.floor(x0)) & ~1), min(width - margin, (int(np.ceil(x1)) + 2) & ~1)
        c, d = max(margin, int(np.floor(y0)) & ~1), min(height - margin, (int(np.ceil(y1)) + 2) & ~1)
        return cls(a, b, c, d) if b - a >= 4 and d - c >= 4 else None

    def grid(self, sub: int) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution coordinates of the centres of a plane's pixels in this box (rows x cols)."""
        off = (sub - 1) / 2
        ys = np.arange(self.y0 // sub, self.y1 // sub, dtype=np.float64) * sub + off
        xs = np.arange(self.x0 // sub, self.x1 // sub, dtype=np.float64) * sub + off
        return np.meshgrid(xs, ys)


Knots = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(us, dst, src): sample columns (n,), destination rows (k, n) and source rows (k, n), increasing in k."""


def source_rows(v: np.ndarray, dst: list[np.ndarray], src: list[np.ndarray]) -> np.ndarray:
    """The source row of each destination row v under the piecewise-linear knot map (v itself outside it)."""
    out = v.copy()
    for k in range(len(dst) - 1):
        seg = (v >= dst[k]) & (v < dst[k + 1])
        span = np.maximum(dst[k + 1] - dst[k], 1e-6)
        out = np.where(seg, src[k] + (v - dst[k]) * (src[k + 1] - src[k]) / span, out)
    return out


@dataclass(frozen=True)
class Paint:
    """A blend (out * keep + add) over rows r0:r1 and columns c0:c1 of an edit's output."""

    r0: int
    r1: int
    c0: int
    c1: int
    keep: np.ndarray
    add: np.ndarray


@dataclass(frozen=True)
class PlaneEdit:
    """One plane's cached edit: `cv2.remap` maps reading a window of the plane, and an optional paint.

    The window is (height, width) at (row, col); the maps cover only the part of it that changes,
    whose top-left corner is (r0, c0) in the window.
    """

    plane: int
    row: int
    col: int
    height: int
    width: int
    r0: int
    c0: int
    map1: np.ndarray
    map2: np.ndarray
    paint: Paint | None = None


def _bounds(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(r0, r1, c0, c1) around the True cells of a 2-D mask, or None."""
    rows, cols = np.nonzero(mask)
    if not rows.size:
        return None
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def plane_edit(frame: FaceFrame, box: Box, plane: int, u: np.ndarray, src_v: np.ndarray,
               paint: tuple[np.ndarray, np.ndarray] | None = None) -> PlaneEdit:  # fmt: skip
    """The edit of one plane: pixel (u, v) of `box` shows the source point (u, src_v); `paint` is an
    optional (alpha, value) pair painted over the result."""
    sub = SUBSAMPLING[plane]
    sx, sy = frame.to_image(u, src_v)
    off = (sub - 1) / 2
    mx = ((sx - off) / sub - box.x0 // sub).astype(np.float32)  # relative to the box: the warp reads the
    my = ((sy - off) / sub - box.y0 // sub).astype(np.float32)  # frame being drawn, wherever the head is
    map1, map2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    height, width = mx.shape
    # where the fixed-point map is the identity, remap gives the pixel back: crop to what changes
    ys, xs = np.mgrid[0:height, 0:width]
    changes = (map2 != 0) | (map1[..., 0] != xs) | (map1[..., 1] != ys)
    alpha = value = None
    if paint is not None:
        alpha = np.clip(paint[0], 0.0, 1.0).astype(np.float32)
        value = np.broadcast_to(paint[1], alpha.shape)
        changes |= alpha > 0  # where alpha is 0 the blend gives the pixel back too
    r0, r1, c0, c1 = _bounds(changes) or (0, 0, 0, 0)
    painted = None
    if alpha is not None and value is not None and (at := _bounds(alpha > 0)) is not None:
        a0, a1, b0, b1 = at
        a, v = alpha[a0:a1, b0:b1], value[a0:a1, b0:b1].astype(np.float32)
        painted = Paint(a0 - r0, a1 - r0, b0 - c0, b1 - c0, 1.0 - a, a * v + np.float32(0.5))
    return PlaneEdit(plane, box.y0 // sub, box.x0 // sub, height, width, r0, c0,
                     np.ascontiguousarray(map1[r0:r1, c0:c1]), np.ascontiguousarray(map2[r0:r1, c0:c1]),
                     painted)  # fmt: skip


def build_edits(frame: FaceFrame, knots: Knots, box: Box) -> list[PlaneEdit]:
    """The three planes' edits for the knot warp `knots` of `box`."""
    us, dst_k, src_k = knots
    edits = []
    for p, sub in enumerate(SUBSAMPLING):
        u, v = frame.to_face(*box.grid(sub))
        dst = [np.interp(u, us, row) for row in dst_k]
        src = [np.interp(u, us, row) for row in src_k]
        inside = (u >= us[0]) & (u <= us[-1])
        sv = np.where(inside, source_rows(v, dst, src), v)
        edits.append(plane_edit(frame, box, p, u, sv))
    return edits


def apply_edits(planes: Planes, edits: list[PlaneEdit], dx: int, dy: int) -> None:
    """Apply cached edits in place to a frame whose face has moved by an even (dx, dy).

    Each edit warps its box of the frame as it is (the moved head, feathered into the background),
    so where the warp fades out it meets that frame without a seam.
    """
    for e in edits:
        if not e.map2.size:
            continue
        sub = SUBSAMPLING[e.plane]
        r, c = e.row + dy // sub, e.col + dx // sub
        window = planes[e.plane][r : r + e.height, c : c + e.width]
        out = cv2.remap(window, e.map1, e.map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if (p := e.paint) is not None:
            part = out[p.r0 : p.r1, p.c0 : p.c1]
            part[...] = part * p.keep + p.add
        window[e.r0 : e.r0 + out.shape[0], e.c0 : e.c0 + out.shape[1]] = out
