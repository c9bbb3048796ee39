"""The comparison rules on their own: JSON paths, noise filters, shapes, lifecycles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.tools.drift_compare import (
    Rules,
    compare_headers,
    compare_json,
    compare_lifecycle,
    path_matches,
    segments,
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("$..id", "$.data.id", True),
        ("$..id", "$.id", True),
        ("$..*_id", "$.data.videos[*].video_id", True),
        ("$..*_id", "$.data.videos[*].video", False),
        ("$.data.*", "$.data.status", True),
        ("$.data.*", "$.data.error.code", False),
        ("$.items[*].name", "$.items[3].name", True),
        ("headers.x-request-id", "headers.x-request-id", True),
    ],
)
def test_json_paths(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


def test_ignore_covers_everything_under_a_path() -> None:
    assert segments("$.a[2].b") == ["$", "a", "[*]", "b"]
    assert path_matches("$.data", "$.data.video_url", below=True)
    assert not path_matches("$.data", "$.datum", below=True)


RECORDED = {
    "code": 100,
    "message": "Success",
    "data": {"id": "4f1c", "status": "completed", "created_at": 1760000000, "duration": 2.0, "callback_id": None,
             "video_url": "https://files.heygen.ai/v/4f1c/video.mp4?Expires=1&Signature=aa&Key-Pair-Id=K",
             "request_id": "r-1"},
}  # fmt: skip
TARGET = {
    **RECORDED,
    "data": {**RECORDED["data"], "id": "9e2d", "created_at": 1790000000, "request_id": "r-2",
             "video_url": "http://127.0.0.1:9/v/9e2d/video.mp4?Expires=2&Signature=bb&Key-Pair-Id=K"},
}  # fmt: skip


def test_noise_filters_hide_ids_timestamps_signed_links_and_request_ids() -> None:
    everything = Rules(values=["$..*"])
    without_noise = Rules(values=["$..*"], noise=[])
    assert compare_json(RECORDED, RECORDED, everything) == []
    loud = {d.path for d in compare_json(RECORDED, TARGET, without_noise)}
    assert loud == {"$.data.id", "$.data.created_at", "$.data.request_id", "$.data.video_url"}
    # with the default noise rules, ids, times and request ids are placeholders; links lose host and signature...
    remaining = compare_json(RECORDED, TARGET, everything)
    assert [d.path for d in remaining] == ["$.data.video_url"]  # ...but the id inside this path still differs
    relinked = {**TARGET, "data": {**TARGET["data"], "video_url": "http://x/v/4f1c/video.mp4?Expires=9&Signature=c"}}
    assert compare_json(RECORDED, relinked, everything) == []
    changed = {**TARGET, "data": {**TARGET["data"], "duration": 3.5}}
    (difference,) = compare_json(RECORDED, {**changed, "data": {**changed["data"], "video_url": RECORDED["data"]
                                                                ["video_url"]}}, everything)  # fmt: skip
    assert (difference.kind, difference.path, difference.recorded, difference.target) == (
        "value", "$.data.duration", 2.0, 3.5)


def test_shape_differences_name_the_path_and_both_sides() -> None:
    rules = Rules()
    target = {**TARGET, "data": {**TARGET["data"], "created_at": "2026-01-01", "callback_id": "cb"}}
    del target["data"]["duration"]
    found = {(d.kind, d.path, d.recorded, d.target) for d in compare_json(RECORDED, target, rules)}
    assert found == {
        ("type", "$.data.created_at", "integer", "string"),
        ("type", "$.data.callback_id", "null", "string"),
        ("field missing", "$.data.duration", "number", "absent"),
    }
    assert compare_json(RECORDED, target, Rules(ignore=["$.data.created_at", "$.data.duration",
                                                        "$.data.callback_id"])) == []  # fmt: skip
    assert compare_json({"n": 2.0}, {"n": 2}, rules) == [] and compare_json({"n": 2}, {"n": 2.5}, rules) != []


def test_headers_that_matter() -> None:
    rules = Rules()
    same = [("content-type", "application/json; charset=utf-8"), ("retry-after", "3"), ("x-request-id", "a")]
    other = [("content-type", "application/json"), ("retry-after", "5"), ("x-request-id", "b")]
    assert compare_headers(same, other, rules) == []
    found = compare_headers([("www-authenticate", "Bearer")], [("www-authenticate", "Basic realm=x")], rules)
    assert [(d.path, d.recorded, d.target) for d in found] == [("headers.www-authenticate", "Bearer", "Basic realm=x")]
    dated = compare_headers([("retry-after", "3")], [("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")], rules)
    assert [d.path for d in dated] == ["headers.retry-after"]


def test_lifecycles() -> None:
    rules = Rules()

    def polls(*states: tuple[str, int]) -> list[dict[str, object]]:
        return [{"status": s, "progress": p} for s, p in states]

    recorded = polls(("queued", 0), ("in_progress", 30), ("in_progress", 70), ("completed", 100))
    assert compare_lifecycle(recorded, polls(("completed", 100)), rules) == []  # a fast target skips words
    quick = polls(("queued", 0), ("completed", 100))  # a recording that never polled during in_progress
    assert compare_lifecycle(quick, polls(("queued", 0), ("in_progress", 40), ("completed", 100)), rules) == []
    assert compare_lifecycle(recorded, polls(("queued", 0), ("in_progress", 50), ("completed", 100)), rules) == []
    (backwards,) = compare_lifecycle(recorded, polls(("in_progress", 50), ("in_progress", 20), ("completed", 100)),
                                     rules)  # fmt: skip
    assert (backwards.path, backwards.recorded, backwards.target) == ("$.progress", "rising", "50 > 20 > 100")
    (order,) = compare_lifecycle(recorded, polls(("in_progress", 10), ("queued", 10), ("completed", 100)), rules)
    assert order.target == "in_progress > queued > completed"
    (word,) = compare_lifecycle(recorded, polls(("queued", 0), ("processing", 50), ("completed", 100)), rules)
    assert (word.path, word.recorded) == ("$.status", "queued > in_progress > completed")


def test_rules_file_extends_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"ignore": ["$.data.duration"], "headers": ["X-RateLimit-Remaining"]}))
    rules = Rules.load(path, values=["$..message"])
    assert "$.data.duration" in rules.ignore and "x-ratelimit-remaining" in rules.headers
    assert "$..message" in rules.values and "$.status" in rules.values
    path.write_text(json.dumps({"skip": []}))
    with pytest.raises(ValueError, match="unknown rule key"):
        Rules.load(path)
