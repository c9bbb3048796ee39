"""The conformance suite's own parts, one by one: box-layout rules, verdicts and scores, the webhook receiver,
the concurrency bound, the coverage matcher."""

from __future__ import annotations

import struct
import time

import httpx
import pytest

from contracts.burst import max_certainly_concurrent
from contracts.cli import build_parser, pytest_args
from contracts.evidence import Evidence
from contracts.mp4 import fragmented_layout_problems, mfra_problem, top_level
from contracts.receiver import Hit, Receiver, ReceiverConfig, receiver
from contracts.report import RunReport
from contracts.spec import operation_of
from contracts.target import Target
from tests.contracts.second_impl import mfra_box

OK_LAYOUTS = [
    ["ftyp", "moov", "moof", "mdat", "moof", "mdat"],
    ["ftyp", "free", "moov", "moof", "mdat", "mfra"],
    ["ftyp", "moov", "styp", "sidx", "prft", "emsg", "moof", "mdat", "mdat", "free", "moof", "mdat", "mfra", "free"],
    ["ftyp", "pdin", "meta", "moov", "uuid", "moof", "mdat", "zzzz", "moof", "mdat"],
]
BAD_LAYOUTS = {
    "moov after a fragment": ["ftyp", "moof", "mdat", "moov", "moof", "mdat"],
    "mdat without moof": ["ftyp", "moov", "mdat", "moof", "mdat"],
    "moof without mdat": ["ftyp", "moov", "moof", "moof", "mdat"],
    "mfra before the last fragment": ["ftyp", "moov", "moof", "mdat", "mfra", "moof", "mdat"],
    "sidx inside a fragment": ["ftyp", "moov", "moof", "sidx", "mdat"],
    "no ftyp first": ["moov", "ftyp", "moof", "mdat"],
    "two moov": ["ftyp", "moov", "moov", "moof", "mdat"],
    "no fragment": ["ftyp", "moov", "free"],
}


@pytest.mark.parametrize("types", OK_LAYOUTS)
def test_iso_bmff_layouts_that_are_allowed(types: list[str]) -> None:
    assert fragmented_layout_problems(types) == []


@pytest.mark.parametrize("label", sorted(BAD_LAYOUTS))
def test_iso_bmff_layouts_that_are_not(label: str) -> None:
    assert fragmented_layout_problems(BAD_LAYOUTS[label]), label


def test_mfra_must_end_with_a_matching_mfro() -> None:
    (good,) = top_level(mfra_box())
    assert mfra_problem(good) is None
    wrong_size = mfra_box()[:-4] + struct.pack(">I", 99)
    assert "99" in str(mfra_problem(top_level(wrong_size)[0]))
    empty = top_level(struct.pack(">I4s", 8, b"mfra"))[0]
    assert "mfro" in str(mfra_problem(empty))


def test_should_clauses_warn_unless_strict() -> None:
    loose = Evidence("t", ("A-MUST", "A-SHOULD"), should=frozenset({"A-SHOULD"}))
    loose.check("A-SHOULD", False, "no range support")
    loose.check("A-MUST", True, "fine")
    assert [r.verdict for r in loose.records] == ["WARN", "PASS"] and not loose.failures()
    strict = Evidence("t", ("A-SHOULD",), should=frozenset({"A-SHOULD"}), strict=True)
    strict.check("A-SHOULD", False, "no range support")
    assert [r.verdict for r in strict.failures()] == ["FAIL"]
    stopped = Evidence("t", ("A-MUST", "A-SHOULD"), should=frozenset({"A-SHOULD"}))
    stopped.fill("FAIL", "test stopped")
    assert stopped.by_clause() == {"A-MUST": ("FAIL", "test stopped"), "A-SHOULD": ("WARN", "test stopped")}


def _report(strict: bool, verdicts: dict[str, bool]) -> RunReport:
    run = RunReport(Target("boson", "http://127.0.0.1:1", "BOSON_API_KEY"), strict=strict)
    ev = Evidence("t", tuple(verdicts), should=frozenset({"BOSON-CONTENT-RANGE"}), strict=strict)
    for clause, ok in verdicts.items():
        ev.check(clause, ok, "seen")
    run.add_evidence(ev)
    return run


def test_score_counts_must_clauses_and_should_ones_when_strict() -> None:
    verdicts = {"BOSON-VIDEO-RETRIEVE": True, "BOSON-MEDIA-SIZE": False, "BOSON-CONTENT-RANGE": False}
    loose = _report(False, verdicts).score()
    # every other MUST clause ran no test here: UNTESTED counts as applicable and not passed
    assert loose["counts"] == "MUST" and loose["passed"] == 1 and loose["should_met"] == 0
    strict = _report(True, verdicts).score()
    assert strict["counts"] == "MUST+SHOULD"
    assert strict["applicable"] == loose["applicable"] + strict["should_applicable"]
    statuses = {row["id"]: row["status"] for row in _report(False, verdicts).clause_rows()}
    assert statuses["BOSON-CONTENT-RANGE"] == "WARN" and statuses["BOSON-MEDIA-SIZE"] == "FAIL"


def test_requests_are_matched_to_documented_operations() -> None:
    assert operation_of("boson", "POST", "/v1/videos/stream") == "streamVideo"
    assert operation_of("boson", "GET", "/v1/videos/video_0123/content") == "downloadVideoContent"
    assert operation_of("boson", "GET", "/v1/videos/video_0123") == "getVideo"
    assert operation_of("heygen", "GET", "/v1/video_status.get") == "getVideoStatus"
    assert operation_of("heygen", "GET", "/heygen/files/x/y/video.mp4") is None  # emulator-only route


def test_concurrency_bound_counts_only_certain_overlaps() -> None:
    # a finished while d started between two reads of one round: both read processing, never certainly together
    raced = {
        "a": [(0.0, 0.1, "processing"), (1.0, 1.1, "processing"), (2.0, 2.1, "completed")],
        "d": [(1.5, 1.6, "pending"), (2.5, 2.6, "processing"), (3.0, 3.1, "processing")],
    }
    assert max_certainly_concurrent(raced) == 1
    together = {v: [(0.0, 0.1, "processing"), (1.0, 1.1, "processing")] for v in "abc"}
    assert max_certainly_concurrent(together) == 3


def test_receiver_behaviours() -> None:
    with receiver() as rec, httpx.Client(base_url=rec.url, timeout=5) as client:
        assert client.post("/ok/hook", content=b"{}").status_code == 200
        assert client.get("/ok/missing.mp3").status_code == 404
        assert [client.post("/flaky/hook", content=b"e1").status_code for _ in range(2)] == [503, 200]
        assert client.post("/flaky/hook", content=b"e2").status_code == 503  # another event: refused once too
        t0 = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.post("/slow/hook", content=b"e1", timeout=0.3)
        assert client.post("/slow/hook", content=b"e1").status_code == 200
        assert time.monotonic() - t0 < 5
        with pytest.raises(httpx.ReadTimeout):
            client.options("/silent/hook", timeout=0.3)
        rec.wait(lambda: len(rec.requests("OPTIONS")) == 1, 5)
    slow = rec.requests("POST", "/slow/hook")
    assert [h.status for h in slow] == [None, 200] and 0.2 < slow[0].held_s < 5
    assert rec.requests("OPTIONS", "/silent/hook")[0].status is None


def test_receiver_lists_hits_in_the_order_they_arrived() -> None:
    """A held request is recorded when it ends: the sender's retry, answered at once, may be first."""
    rec = Receiver()
    rec.record(Hit("POST", "/slow/hook", {}, b"e1", t=2.0, status=200))
    rec.record(Hit("POST", "/slow/hook", {}, b"e1", t=1.0, status=None, held_s=0.35))
    rec.record(Hit("POST", "/ok/hook", {}, b"e2", t=1.5, status=200))
    assert [h.status for h in rec.requests("POST", "/slow/hook")] == [None, 200]
    assert [h.t for h in rec.requests()] == [1.0, 1.5, 2.0]


def test_receiver_behind_a_public_url() -> None:
    config = ReceiverConfig("127.0.0.1", 0, "https://hooks.example.test/suite/")
    assert config.unreachable_reason(False, "api.heygen.com") is None
    assert "--callback-base-url" in str(ReceiverConfig().unreachable_reason(False, "api.heygen.com"))
    assert ReceiverConfig().unreachable_reason(True, "127.0.0.1") is None
    with receiver(config) as rec:
        assert rec.url == "https://hooks.example.test/suite"


def test_cli_passes_the_new_options_to_pytest() -> None:
    ns = build_parser().parse_args([
        "--provider", "heygen", "--base-url", "https://api.heygen.com", "--strict", "--heygen-concurrency", "6",
        "--callback-base-url", "https://hooks.example.test", "--callback-listen", "0.0.0.0:8089",
    ])  # fmt: skip
    args = pytest_args(ns)
    assert "--strict-conformance" in args
    for flag, value in (("--heygen-concurrency", "6"), ("--callback-base-url", "https://hooks.example.test"),
                        ("--callback-listen", "0.0.0.0:8089")):  # fmt: skip
        assert args[args.index(flag) + 1] == value
    assert "--strict-conformance" not in pytest_args(build_parser().parse_args(["--provider", "boson",
                                                                                "--base-url", "http://x"]))
