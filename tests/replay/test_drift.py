"""`drift`: one deviation in the upstream, one difference in the report; none for an identical one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver import Settings, create_app
from mockserver.cli import main
from tests.replay import upstreams
from tests.replay.sessions import (
    Transcript,
    boson_busy,
    boson_client,
    boson_render,
    boson_stream,
    heygen_client,
    heygen_render,
    recording,
)
from tests.servers import serve

Session = Callable[[str, dict[str, Any]], None]


def _drift(folder: Path, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["drift", "--cassettes", str(folder), "--json", str(report), "--poll-interval", "0.05", *extra])
    return code, json.loads(report.read_text())


def test_an_identical_upstream_shows_no_drift(full_recording: tuple[Path, Transcript], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    folder, transcript = full_recording
    code, report = _drift(folder, tmp_path / "report.json")  # against a fresh emulator it starts itself
    assert report["differences"] == [] and report["errors"] == [], capsys.readouterr().out
    assert code == 0 and not report["drift"]
    requests = {(call.method, call.url.split("?")[0]) for call in transcript.calls if call.url[:2] != "/_"}
    assert report["compared"] >= len(requests)  # every kind of request was answered and compared
    assert "0 difference(s)" in capsys.readouterr().out


def _boson(session: Callable[[Transcript, Any, dict[str, Any]], None]) -> Session:
    def play(proxy: str, video: dict[str, Any]) -> None:
        with boson_client(proxy) as client:
            session(Transcript(), client, video)

    return play


def _heygen(proxy: str, video: dict[str, Any]) -> None:
    with heygen_client(proxy) as client:
        heygen_render(Transcript(), client)


DEVIATIONS = {
    "renamed field": (
        upstreams.renamed_progress,
        _boson(boson_render),
        ("field renamed", "$.percent", "$.percent (integer)", "$.progress (integer)"),
    ),
    "status word": (
        upstreams.succeeded_not_completed,
        _heygen,
        ("lifecycle", "$.data.status", "succeeded", "completed"),
    ),
    "missing retry-after": (
        upstreams.no_retry_after,
        _boson(boson_busy),
        ("header", "headers.retry-after", "absent", "1"),
    ),
    "stream content-type": (
        upstreams.octet_stream,
        _boson(boson_stream),
        ("header", "headers.content-type", "application/octet-stream", "video/mp4"),
    ),
}


@pytest.mark.parametrize("name", list(DEVIATIONS))
def test_drift_names_the_one_deviation(name: str, tmp_path: Path, video: dict[str, Any],
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    deviate, session, (kind, path, recorded, target) = DEVIATIONS[name]
    folder = tmp_path / "cassettes"
    with recording(deviate(create_app(Settings(seed=7))), folder) as proxy:
        session(proxy, video)
    with serve(create_app(Settings(seed=1))) as emulator:
        code, report = _drift(folder, tmp_path / "report.json", "--against", emulator)
    table = capsys.readouterr().out
    assert code == 1 and report["drift"] and report["errors"] == []
    (difference,) = report["differences"]
    assert (difference["kind"], difference["path"]) == (kind, path), table
    if kind == "lifecycle":  # the sequences: both end on their terminal word
        assert difference["recorded"].endswith(recorded) and difference["target"].endswith(target)
    else:
        assert (difference["recorded"], difference["target"]) == (recorded, target)
    assert path in table and "1 difference(s)" in table
