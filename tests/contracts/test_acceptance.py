"""Acceptance: schema-shaped canned answers are not conformance; a remote target without budget creates nothing."""

from __future__ import annotations

import pytest

from tests.contracts.harness import reasons, run_suite, statuses
from tests.contracts.spec_examples import create_app
from tests.servers import serve

pytestmark = pytest.mark.slow

LIFECYCLE_AND_MEDIA = [
    "BOSON-VIDEO-STATUS-MONOTONE",
    "BOSON-VIDEO-COMPLETED-PROGRESS-100",
    "BOSON-CONTENT-404-UNTIL-COMPLETED",
    "BOSON-MEDIA-SIZE",
    "BOSON-MEDIA-DURATION",
    "BOSON-MEDIA-LIPSYNC",
    "BOSON-STREAM-BOX-ORDER",
    "BOSON-STREAM-DECODES",
]


def test_spec_examples_server_fails_lifecycle_and_media() -> None:
    with serve(create_app()) as url:
        report = run_suite(
            url,
            "--tier",
            "core",
            "--video-timeout",
            "2",
            "--deselect",
            "contracts/test_breadth.py::test_negative_breadth",
        )
    got = statuses(report)
    print(report["summary"])
    assert {c: got[c] for c in LIFECYCLE_AND_MEDIA} == dict.fromkeys(LIFECYCLE_AND_MEDIA, "FAIL")
    assert report["exit_code"] != 0


def test_remote_without_budget_creates_nothing() -> None:
    report = run_suite("https://example.invalid", "--tier", "core")
    assert report["budget"] == {"videos": None, "spent": 0}
    why = reasons(report)
    na_budget = [c for c, s in statuses(report).items() if s == "NA" and "--budget-videos" in why[c]]
    print(f"{len(na_budget)} clauses NA for lack of --budget-videos")
    for clause in ("BOSON-VIDEO-CREATE-QUEUED", "BOSON-MEDIA-LIPSYNC", "BOSON-STREAM-BOX-ORDER", "BOSON-CAPACITY-429"):
        assert clause in na_budget
    assert "PASS" not in statuses(report).values()


def test_remote_heygen_without_budget_creates_nothing() -> None:
    report = run_suite("https://example.invalid", "--provider", "heygen", "--tier", "core")
    assert report["budget"] == {"videos": None, "spent": 0}
    why = reasons(report)
    na = {c for c, s in statuses(report).items() if s == "NA"}
    for clause in ("HEYGEN-STATUS-LIFECYCLE", "HEYGEN-MEDIA-SIZE", "HEYGEN-GENERATE-LENIENT", "HEYGEN-V1-GENERATE"):
        assert clause in na and "--budget-videos" in why[clause], (clause, why[clause])
    for clause in ("HEYGEN-WEBHOOK-SIGNATURE", "HEYGEN-WEBHOOK-ENDPOINT-ADD", "HEYGEN-WEBHOOK-DEAD-URL"):
        assert clause in na and "--callback-base-url" in why[clause], (clause, why[clause])
    assert "PASS" not in statuses(report).values()
