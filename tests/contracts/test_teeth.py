"""Proof of teeth: each mutant breaks one clause; the suite must report that clause FAIL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contracts.harness import emulator_app, reasons, run_suite, statuses
from tests.contracts.heygen_mutants import HEYGEN_MUTANTS
from tests.contracts.mutants import MUTANTS, Mutant
from tests.servers import serve

pytestmark = pytest.mark.slow


def judge(mutant: Mutant) -> tuple[Mutant, str, str]:
    with serve(mutant.wrap(emulator_app())) as url:
        report = run_suite(url, "--provider", mutant.provider, "--tier", "core", "--clause", mutant.clause)
    return mutant, statuses(report).get(mutant.clause, "?"), reasons(report).get(mutant.clause, "")


ALL = MUTANTS + HEYGEN_MUTANTS


def test_every_mutant_is_caught_under_its_clause() -> None:
    assert len(MUTANTS) >= 12 and len(HEYGEN_MUTANTS) >= 4
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(judge, ALL))
    caught = [m for m, status, _ in results if status == "FAIL"]
    for m, status, reason in results:
        print(f"{'CAUGHT' if status == 'FAIL' else 'MISSED'} {m.name:28} {m.clause:38} {status}: {reason[:110]}")
    print(f"mutation score: {len(caught)}/{len(ALL)} = {100 * len(caught) / len(ALL):.0f}%")
    missed = [(m.name, status, reason) for m, status, reason in results if status != "FAIL"]
    assert not missed, f"mutants not caught under their clause: {missed}"
