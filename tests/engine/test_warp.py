"""Cached warps: an edit touches only the part of its box that changes, with the bytes of a full remap."""

from __future__ import annotations

import cv2
import numpy as np

from reference_engine.warp import Box, FaceFrame, apply_edits, plane_edit


def _full_remap(window: np.ndarray, mx: np.ndarray, my: np.ndarray,
                paint: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:  # fmt: skip
    """The reference: remap the whole window, then blend the whole window."""
    map1, map2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    out = cv2.remap(window, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if paint is not None:
        alpha = np.clip(paint[0], 0.0, 1.0).astype(np.float32)
        out = (out * (1.0 - alpha) + (alpha * paint[1].astype(np.float32) + np.float32(0.5))).astype(np.uint8)
    return out


def test_a_cropped_edit_gives_the_bytes_of_the_full_remap() -> None:
    rng = np.random.default_rng(3)
    plane = rng.integers(0, 256, (120, 160), dtype=np.uint8)
    frame = FaceFrame(np.array([80.0, 60.0]), np.array([1.0, 0.0]))  # u = x - 80, v = y - 60
    box = Box(40, 120, 20, 100)
    u, v = frame.to_face(*box.grid(1))
    bump = np.exp(-(u**2 + (v - 5) ** 2) / 40.0)  # a smooth drop in the middle, nothing at the edges
    src_v = v - 6.0 * bump
    alpha = np.where(np.abs(v - 8) < 3, 0.8 * bump, 0.0)
    paint = (alpha, np.full_like(alpha, 30.0))
    edit = plane_edit(frame, box, 0, u, src_v, paint)
    window = plane[20:100, 40:120]
    expected = _full_remap(window.copy(), (u + 80 - 40).astype(np.float32), (src_v + 60 - 20).astype(np.float32),
                           paint)  # fmt: skip
    assert 0 < edit.map2.size < window.size // 2  # cropped: the corners of the box do not move
    out = plane.copy()
    apply_edits((out, out[:1, :1], out[:1, :1]), [edit], 0, 0)
    assert np.array_equal(out[20:100, 40:120], expected)
    outside = np.ones(plane.shape, bool)
    outside[20:100, 40:120] = False
    assert np.array_equal(out[outside], plane[outside])
    assert not np.array_equal(expected, window)  # the warp did something
