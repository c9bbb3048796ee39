"""How many cores a Boson render uses: a share of the machine per replica, the same bytes either way."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mockserver.core.settings import Settings
from mockserver.core.workers import TaskRefused
from mockserver.providers.boson import render, tasks
from mockserver.providers.boson.render import render_cores
from mockserver.providers.boson.tasks import RenderSpec, render_video
from tests.boson.helpers import api, wait_terminal
from tests.media import make_portrait, speech_like


@pytest.mark.parametrize(
    ("cores", "settings", "expected"),
    [
        (2, Settings(replicas=1), 2),
        (2, Settings(replicas=2), 1),
        (2, Settings(replicas=20), 1),
        (8, Settings(replicas=3), 2),
        (16, Settings(replicas=2), 8),
        (2, Settings(replicas=2, render_cores=2), 2),  # as told
        (16, Settings(replicas=1, state="redis://127.0.0.1:6379/0"), 1),  # workers render elsewhere
    ],
)
def test_a_render_gets_this_machines_cores_shared_out_among_the_replicas(
    monkeypatch: pytest.MonkeyPatch, cores: int, settings: Settings, expected: int
) -> None:
    monkeypatch.setattr(render.os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert render_cores(settings) == expected


class _Context:
    """A worker's TaskContext, noting which render threads run while the task sends events."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.threads: set[str] = set()
        self.events: list[dict[str, Any]] = []

    def emit(self, **event: Any) -> None:
        self.events.append(event)
        self.threads.update(t.name for t in threading.enumerate() if t.name in ("draw", "x264"))

    def progress(self, fraction: float) -> None:
        raise AssertionError("progress rides on the fragments' events")

    def reached(self, point: str) -> None:
        pass


@pytest.mark.parametrize(("pipeline", "threads"), [(True, {"draw", "x264"}), (False, set())])
def test_the_render_task_pipelines_only_when_its_spec_says_so(
    tmp_path: Path, pipeline: bool, threads: set[str]
) -> None:
    np.save(tmp_path / "image.npy", make_portrait(320, 240).rgb)
    np.save(tmp_path / "audio.npy", speech_like(2.0))
    spec = RenderSpec(image=str(tmp_path / "image.npy"), width=320, height=240, fmp4=str(tmp_path / "v.fmp4"),
                      mp4=str(tmp_path / "v.mp4"), audio=str(tmp_path / "audio.npy"), pipeline=pipeline)
    ctx = _Context()
    assert render_video(ctx, spec) == pytest.approx(2.0)  # type: ignore[arg-type]
    assert ctx.threads == threads
    assert (tmp_path / "v.mp4").stat().st_size > 0


def test_fragments_are_announced_in_batches_the_first_ones_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every message wakes the server: after the init segment and the first fragment (which a live
    stream waits for), fragments are announced together, at most every ANNOUNCE_EVERY_S."""
    monkeypatch.setattr(tasks, "ANNOUNCE_EVERY_S", 3600.0)  # so: init, first fragment, then the rest at the end
    np.save(tmp_path / "image.npy", make_portrait(320, 240).rgb)
    np.save(tmp_path / "audio.npy", speech_like(3.0))
    spec = RenderSpec(image=str(tmp_path / "image.npy"), width=320, height=240, fmp4=str(tmp_path / "v.fmp4"),
                      mp4=str(tmp_path / "v.mp4"), audio=str(tmp_path / "audio.npy"))
    ctx = _Context()
    render_video(ctx, spec)  # type: ignore[arg-type]
    batches = [event for event in ctx.events if "fragments" in event]
    assert [len(event["fragments"]) for event in batches[:2]] == [1, 1] and len(batches) == 3
    marks = [mark for event in batches for mark in event["fragments"]]
    assert len(marks) > 10  # 0.2 s fragments of a 3 s video, the init segment and the last
    ends = [end for end, _ in marks]
    assert ends == sorted(set(ends)) and ends[-1] == (tmp_path / "v.fmp4").stat().st_size
    assert [media for _, media in marks][-1] == pytest.approx(3.0, abs=0.05)
    progress = [event["progress"] for event in batches]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(0.97, abs=0.02)


@pytest.mark.parametrize("pipeline", [True, False])
def test_a_cancelled_render_leaves_no_mp4(tmp_path: Path, pipeline: bool) -> None:
    np.save(tmp_path / "image.npy", make_portrait(320, 240).rgb)
    np.save(tmp_path / "audio.npy", speech_like(3.0))
    spec = RenderSpec(image=str(tmp_path / "image.npy"), width=320, height=240, fmp4=str(tmp_path / "v.fmp4"),
                      mp4=str(tmp_path / "v.mp4"), audio=str(tmp_path / "audio.npy"), pipeline=pipeline)
    ctx = _Context()
    ctx.emit = lambda **event: ctx.cancel.set() if "fragments" in event else None  # type: ignore[method-assign]
    with pytest.raises(TaskRefused, match="cancelled"):
        render_video(ctx, spec)  # type: ignore[arg-type]
    assert not (tmp_path / "v.mp4").exists()
    assert not [thread for thread in threading.enumerate() if thread.name in ("mp4", "draw", "x264")]


def test_a_pipelined_server_render_gives_the_same_video_as_a_one_core_one(
    emulator_factory: Any, face_data_uri: str, speech_data_uri: str
) -> None:
    videos = []
    for cores in (2, 1):
        with emulator_factory(replicas=1, render_cores=cores) as url, api(url) as client:
            created = client.post("/v1/videos", json={"ref_image": face_data_uri, "input": speech_data_uri})
            assert created.status_code == 200, created.text
            assert wait_terminal(client, created.json()["id"])[-1]["status"] == "completed"
            content = client.get(f"/v1/videos/{created.json()['id']}/content")
            assert content.status_code == 200
            videos.append(content.content)
    assert len(videos[0]) > 10_000
    assert videos[0] == videos[1]
