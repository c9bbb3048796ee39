"""Self-conformance: the full tier against the emulator on loopback, both providers at once; 0 FAIL.

One run per provider (a module fixture) serves every assertion: verdicts, score, coverage, the JUnit XML and
the progress lines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from contracts.catalog import clauses_for
from tests.contracts.harness import emulator_app, reasons, run_suite, statuses
from tests.servers import serve

pytestmark = pytest.mark.slow
PROVIDERS = ("boson", "heygen")
HEYGEN_CONCURRENCY = "3"
"""The emulator's default --heygen-concurrency, told to the suite so the queue clause is judged."""


def full_tier(url: str, provider: str, *extra: str) -> dict[str, Any]:
    args = ["--provider", provider, "--tier", "full", "--target-name", "emulator", *extra]
    if provider == "heygen":
        args += ["--heygen-concurrency", HEYGEN_CONCURRENCY]
    return run_suite(url, *args, junit=True, timeout=600)


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    with serve(emulator_app()) as url, ThreadPoolExecutor(len(PROVIDERS)) as pool:
        runs = {p: pool.submit(full_tier, url, p) for p in PROVIDERS}
        done = {p: run.result() for p, run in runs.items()}
    for p, report in done.items():
        print(f"full tier, {p}: {report['summary']} in {report['elapsed_s']} s")
    return done


@pytest.mark.parametrize("provider", PROVIDERS)
def test_full_tier_passes_every_clause(reports: dict[str, dict[str, Any]], provider: str) -> None:
    report = reports[provider]
    assert report["provider"] == provider and report["tier"] == "full"
    assert len(report["clauses"]) == len(clauses_for(provider))
    not_pass = {k: (v, reasons(report)[k]) for k, v in statuses(report).items() if v != "PASS"}
    assert not not_pass, not_pass
    assert report["exit_code"] == 0, report["stdout_tail"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_score_and_coverage_are_reported(reports: dict[str, dict[str, Any]], provider: str) -> None:
    report = reports[provider]
    must = [c for c in clauses_for(provider) if c.level == "MUST"]
    assert report["score"]["passed"] == report["score"]["applicable"] == len(must)
    assert report["score"]["ratio"] == 1.0
    coverage = report["coverage"]
    assert coverage["operations_not_exercised"] == [], coverage["operations_not_exercised"]
    assert all(op["requests"] or op["breadth"] for op in coverage["operations"]), coverage["operations"]
    assert all(op["breadth"] for op in coverage["operations"]), "the breadth layer drives every operation"
    assert coverage["clauses_na"] == {} and coverage["clauses_untested"] == []
    assert f"score {provider}: {len(must)}/{len(must)} MUST clauses passed (100.0%)" in report["stdout"]
    assert re.search(r"coverage: (\d+)/\1 operations exercised", report["stdout"]), report["stdout_tail"]
    props = {p.get("name"): p.get("value") for p in ET.fromstring(report["junit_xml"]).iter("property")}
    assert props["conformance.score"] == f"{len(must)}/{len(must)}"
    assert props["coverage.operations.not_exercised"] == ""
    assert all(props[f"clause.{c.id}"] == "PASS" for c in clauses_for(provider))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_progress_is_plain_lines_off_a_terminal(reports: dict[str, dict[str, Any]], provider: str) -> None:
    out = reports[provider]["stdout"]
    assert "\x1b[" not in out
    judged = re.findall(r"^PASS  ([A-Z0-9-]+) \[test_\w+\]$", out, re.M)
    assert set(judged) == {c.id for c in clauses_for(provider)}
