"""What a reused frame buffer gets back from the base: everything frames change, outside the head."""

from __future__ import annotations

import numpy as np
import pytest

from reference_engine.animate import _frame_strips


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
