"""The benchmark tools run (their figures are measured by `make bench`, never asserted here)."""

from __future__ import annotations

from mockserver.tools.bench import SIZES, bench_render


def test_bench_render_reports_medians_of_interleaved_runs_for_every_size() -> None:
    rows = bench_render(1.0, runs=2)
    assert [row["size"] for row in rows] == [f"{w}x{h}" for w, h in SIZES]
    for row in rows:
        assert row["frames"] == 25 and row["runs"] == 2 and len(row["ratios"]) == 2
        assert row["ratio"] == row["render_encode_fps"] / row["plain_x264_ultrafast_fps"]
        assert min(row["ratios"]) > 0
