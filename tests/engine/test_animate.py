"""What a reused frame buffer gets back from the base (everything frames change, outside the head), and
the moved head it gets instead."""

from __future__ import annotations

import numpy as np
import pytest

from reference_engine.animate import FaceAnimator, _frame_strips
from tests.media import make_portrait, speech_like


@pytest.mark.parametrize(
    ("outer", "inner"),
    [((0, 40, 0, 30), (10, 20, 8, 16)), ((0, 40, 0, 30), (0, 40, 0, 30)), ((4, 40, 2, 30), (4, 20, 2, 16)),
     ((0, 40, 0, 30), (10, 40, 0, 16))],
)
def test_the_strips_and_the_head_tile_the_changed_region(outer: tuple[int, int, int, int],
                                                          inner: tuple[int, int, int, int]) -> None:  # fmt: skip
    covered = np.zeros((32, 48), np.int32)
    for x0, x1, y0, y1 in [*_frame_strips(outer, inner), inner]:
        covered[y0:y1, x0:x1] += 1
    expected = np.zeros_like(covered)
    expected[outer[2] : outer[3], outer[0] : outer[1]] = 1
    assert np.array_equal(covered, expected)  # every cell once: nothing missed, nothing twice


@pytest.mark.parametrize("offset", [(0, 2), (-6, 4), (6, -6), (16, 0), (-40, 30)])
def test_a_moved_head_is_the_edge_clamped_shift_feathered_into_the_still_picture(offset: tuple[int, int]) -> None:
    """Offsets within the padded copy are slices of it, larger ones gathers: the same pixels."""
    portrait = make_portrait(320, 240)
    animator = FaceAnimator(portrait.rgb, speech_like(1.0))
    dx, dy = offset
    x0, x1, y0, y1 = animator._head
    assert animator.animated and x1 - x0 > 40 and y1 - y0 > 40  # a face, so a head region, was found
    for plane, part, sub in zip(animator._base_planes, animator._shifted_head(dx, dy), (1, 2, 2), strict=True):
        a0, a1, b0, b1 = x0 // sub, x1 // sub, y0 // sub, y1 // sub
        rows = np.clip(np.arange(b0, b1) - dy // sub, 0, plane.shape[0] - 1)
        cols = np.clip(np.arange(a0, a1) - dx // sub, 0, plane.shape[1] - 1)
        moved = plane[rows[:, None], cols[None, :]].astype(np.float32)
        still = plane[b0:b1, a0:a1].astype(np.float32)
        gy = (np.arange(b0, b1) + 0.5 - (b0 + b1) / 2) / max(1.0, (b1 - b0) / 2)
        gx = (np.arange(a0, a1) + 0.5 - (a0 + a1) / 2) / max(1.0, (a1 - a0) / 2)
        alpha = np.clip((1.0 - np.sqrt(gy[:, None] ** 2 + gx[None, :] ** 2)) / 0.3, 0.0, 1.0).astype(np.float32)
        assert np.array_equal(part, (still + alpha * (moved - still) + 0.5).astype(np.uint8))
