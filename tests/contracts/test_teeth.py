"""Proof of teeth: each mutant breaks one clause; the suite must report that clause FAIL (mutation score 100%).

The mutants are judged under --strict-conformance, so SHOULD clauses count; one SHOULD mutant is judged once more
without it, where it must show as WARN and leave the run green. Each provider's mutants run in one subprocess
(tests/contracts/judge.py), both providers at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.contracts.harness import ROOT
from tests.contracts.heygen_mutants import HEYGEN_MUTANTS
from tests.contracts.mutants import MUTANTS

pytestmark = pytest.mark.slow
LENIENT = "range-ignored"
"""A mutant of a SHOULD clause (BOSON-CONTENT-RANGE)."""


def judge_all(provider: str, *extra: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "tests.contracts.judge", "--provider", provider, "--out", str(out), *extra]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
        assert out.exists(), f"judge {provider} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        results: dict[str, Any] = json.loads(out.read_text())
        return results


def test_every_mutant_is_caught_under_its_clause() -> None:
    assert len(MUTANTS) >= 19 and len(HEYGEN_MUTANTS) >= 19
    with ThreadPoolExecutor(2) as pool:
        boson = pool.submit(judge_all, "boson", "--lenient", LENIENT)
        heygen = pool.submit(judge_all, "heygen")
        results = {**boson.result(), **heygen.result()}
    lenient = results.pop(f"{LENIENT} (lenient)")
    for name, r in results.items():
        verdict = "CAUGHT" if r["status"] == "FAIL" else "MISSED"
        print(f"{verdict} {name:28} {r['clause']:36} {r['status']:5} {r['seconds']:5.1f}s {r['reason'][:90]}")
    caught = [name for name, r in results.items() if r["status"] == "FAIL"]
    total = len(MUTANTS) + len(HEYGEN_MUTANTS)
    print(f"mutation score: {len(caught)}/{total} = {100 * len(caught) / total:.0f}%")
    assert set(results) == {m.name for m in MUTANTS + HEYGEN_MUTANTS}
    missed = {name: (r["status"], r["reason"]) for name, r in results.items() if r["status"] != "FAIL"}
    assert not missed, f"mutants not caught under their clause: {missed}"
    assert all(r["exit"] != 0 for r in results.values()), "a run with a FAIL must exit non-zero"
    print(f"without --strict-conformance {LENIENT}: {lenient}")
    assert lenient["status"] == "WARN" and lenient["exit"] == 0, lenient
