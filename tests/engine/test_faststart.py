"""The faststart copy: fed while the fMP4 is written, or from the finished file, the same MP4."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from reference_engine.faststart import FaststartCopy, remux_faststart
from reference_engine.render import RenderJob, render_fmp4
from tests.media import inspect_mp4, make_portrait, speech_like, top_level_boxes


@pytest.fixture(scope="module")
def fragments() -> list[bytes]:
    job = RenderJob(make_portrait(320, 240).rgb, speech_like(3.0, seed=4), 320, 240, seed=2)
    return [fragment.data for fragment in render_fmp4(job)]


def copy_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "mp4"]


def test_a_copy_fed_while_rendering_writes_the_mp4_a_remux_of_the_file_writes(
    fragments: list[bytes], tmp_path: Path
) -> None:
    copy = FaststartCopy(tmp_path / "fed.mp4")
    for data in fragments:
        copy.feed(data)
    assert copy_threads()  # copying on its own thread (so the check below can fail)
    copy.finish()
    assert not copy_threads()
    (tmp_path / "video.fmp4").write_bytes(b"".join(fragments))
    remux_faststart(tmp_path / "video.fmp4", tmp_path / "file.mp4")
    fed, remuxed = (tmp_path / "fed.mp4").read_bytes(), (tmp_path / "file.mp4").read_bytes()
    assert fed == remuxed
    kinds = [kind for kind, _, _ in top_level_boxes(fed)]
    assert "moof" not in kinds and kinds.index("moov") < kinds.index("mdat")
    facts, original = inspect_mp4(fed), inspect_mp4(b"".join(fragments))
    assert facts.n_frames == original.n_frames == 75 and facts.audio_codec == "aac"
    assert np.array_equal(facts.frames[40], original.frames[40])  # packets copied, not re-encoded


def test_an_aborted_copy_stops_and_leaves_no_file(fragments: list[bytes], tmp_path: Path) -> None:
    copy = FaststartCopy(tmp_path / "video.mp4")
    for data in fragments[:5]:
        copy.feed(data)
    copy.abort()
    assert not copy_threads()
    assert not (tmp_path / "video.mp4").exists()


def test_a_copy_of_bytes_that_are_no_mp4_raises_on_finish(tmp_path: Path) -> None:
    copy = FaststartCopy(tmp_path / "video.mp4")
    copy.feed(b"this is not an MP4 at all" * 100)
    with pytest.raises(av.FFmpegError):
        copy.finish()
    assert not copy_threads()
