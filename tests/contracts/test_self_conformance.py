"""Self-conformance: the core tier against the emulator on loopback; every Boson clause must PASS."""

from __future__ import annotations

import time

import pytest

from tests.contracts.harness import emulator_app, reasons, run_suite, statuses
from tests.servers import serve

pytestmark = pytest.mark.slow


def test_emulator_passes_core_tier() -> None:
    with serve(emulator_app()) as url:
        t0 = time.monotonic()
        report = run_suite(url, "--tier", "core", "--target-name", "emulator")
        elapsed = time.monotonic() - t0
    print(report["summary"], f"in {elapsed:.1f} s")
    not_pass = {k: (v, reasons(report)[k]) for k, v in statuses(report).items() if v != "PASS"}
    assert not not_pass, not_pass
    assert report["exit_code"] == 0, report["stdout_tail"]
    assert elapsed < 60
