"""The benchmark tools run (their figures are measured by `make bench`, never asserted here)."""

from __future__ import annotations

import statistics
import sys

from mockserver.tools.bench import SIZES, bench_parallel, bench_render, bench_single_job, bench_status, served


def test_bench_render_reports_the_median_ratio_of_interleaved_pairs_for_every_size() -> None:
    rows = bench_render(1.0, runs=3)
    assert [row["size"] for row in rows] == [f"{w}x{h}" for w, h in SIZES]
    for row in rows:
        assert row["frames"] == 25 and row["runs"] == 3 and len(row["ratios"]) == 3
        assert row["ratio"] == statistics.median(row["ratios"])  # the median of the pairs' ratios
        assert min(row["ratios"]) > 0


def test_bench_status_single_job_and_parallel_report_pairs_against_a_real_server() -> None:
    with served() as (base, port, server):
        status = bench_status(base, port, 0.2, pairs=3, server_pid=server.pid)
        assert len(status["ratios"]) == 3 and status["ratio"] == statistics.median(status["ratios"])
        assert status["status_rps"] > 0 and status["bare_rps"] > 0
        if sys.platform.startswith("linux"):
            assert status["status_server_us"] > 0 and status["bare_server_us"] > 0
        single = bench_single_job(base, 0.5, runs=2)
        assert [row["size"] for row in single] == [f"{w}x{h}" for w, h in SIZES]
        for row in single:
            assert row["frames"] == 12 and len(row["ratios"]) == 2 and row["ratio"] == statistics.median(row["ratios"])
            assert row["server_render_fps"] > 0 and row["plain_x264_ultrafast_fps"] > 0
        parallel = bench_parallel(base, clip_seconds=0.5, runs=1)
        assert len(parallel["speedups"]) == 1
        assert parallel["speedup"] == parallel["one_after_the_other_s"] / parallel["at_once_s"]
