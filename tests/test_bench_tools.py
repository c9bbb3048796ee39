"""The benchmark tools run (their figures are measured by `make bench`, never asserted here)."""

from __future__ import annotations

import statistics

from mockserver.tools.bench import SIZES, bench_render


def test_bench_render_reports_the_median_ratio_of_interleaved_pairs_for_every_size() -> None:
    rows = bench_render(1.0, runs=3)
    assert [row["size"] for row in rows] == [f"{w}x{h}" for w, h in SIZES]
    for row in rows:
        assert row["frames"] == 25 and row["runs"] == 3 and len(row["ratios"]) == 3
        assert row["ratio"] == statistics.median(row["ratios"])  # the median of the pairs' ratios
        assert min(row["ratios"]) > 0
