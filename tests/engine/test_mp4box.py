"""The shared MP4 box reader, checked against what PyAV decodes from the engine's own fMP4."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from reference_engine.mp4box import BoxError, BoxSplitter, complete_prefix, top_level, track_runs, track_timescales
from reference_engine.video import FragmentedMP4Writer
from tests.media import speech_like

W, H = 96, 64


@pytest.fixture(scope="module")
def fmp4() -> bytes:
    writer = FragmentedMP4Writer(W, H, speech_like(1.0))
    pieces = [writer.header()]
    for i in range(25):
        frame = np.full((H * 3 // 2, W), 16 + 8 * i, dtype=np.uint8)
        pieces += writer.write(frame)
    pieces += writer.close()
    return b"".join(pieces)


def test_sample_counts_and_durations_match_what_pyav_decodes(fmp4: bytes) -> None:
    boxes = top_level(fmp4)
    assert [b.type for b in boxes[:2]] == ["ftyp", "moov"]
    tracks = track_timescales(boxes[1])
    video_id = next(tid for tid, (handler, _) in tracks.items() if handler == "vide")
    runs = [run for box in boxes if box.type == "moof" for run in track_runs(box) if run.track_id == video_id]
    with av.open(io.BytesIO(fmp4)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert sum(run.samples for run in runs) == len(packets) == 25
    assert sum(run.duration for run in runs) == sum(int(p.duration) for p in packets)
    decode_times = [run.base_decode_time for run in runs]
    assert decode_times == sorted(decode_times) and decode_times[0] == 0


def test_growing_buffers_yield_only_whole_boxes(fmp4: bytes) -> None:
    splitter = BoxSplitter()
    for start in range(0, len(fmp4), 777):
        splitter.write(fmp4[start : start + 777])
    assert splitter.pending == 0
    assert b"".join(data for _, data in splitter.boxes) == fmp4
    half = fmp4[: len(fmp4) // 2]
    boxes, end = complete_prefix(half)
    assert 0 < end <= len(half) and boxes[-1].end == end


def test_truncated_input_is_refused(fmp4: bytes) -> None:
    with pytest.raises(BoxError):
        top_level(fmp4[:-3])
    with pytest.raises(BoxError):
        top_level(b"\x00\x00\x00\x04free")
