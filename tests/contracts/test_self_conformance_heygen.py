"""Self-conformance, HeyGen: the core tier against the emulator on loopback; every HeyGen clause must PASS
(or be a documented XFAIL in contracts/deviations.yaml)."""

from __future__ import annotations

import time

import pytest

from tests.contracts.harness import emulator_app, reasons, run_suite, statuses
from tests.servers import serve

pytestmark = pytest.mark.slow


def test_emulator_passes_heygen_core_tier() -> None:
    with serve(emulator_app()) as url:
        t0 = time.monotonic()
        report = run_suite(url, "--provider", "heygen", "--tier", "core", "--target-name", "emulator")
        elapsed = time.monotonic() - t0
    print(report["summary"], f"in {elapsed:.1f} s")
    assert report["provider"] == "heygen"
    assert len(report["clauses"]) >= 40
    not_pass = {k: (v, reasons(report)[k]) for k, v in statuses(report).items() if v not in ("PASS", "XFAIL")}
    assert not not_pass, not_pass
    assert report["exit_code"] == 0, report["stdout_tail"]
    assert elapsed < 60
