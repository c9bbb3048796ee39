from __future__ import annotations

import io
import os
import sys
import threading

import av
import numpy as np
import pytest

from reference_engine.mp4box import BoxError, BoxSplitter
from reference_engine.video import (
    AAC_PRIMING,
    AUDIO_CHUNK,
    AUDIO_LEAD_FRAMES,
    HELPER_NICENESS,
    FragmentedMP4Writer,
    encode_yuv_frames_plain,
    lead_in_trimmed,
    video_samples,
    yield_to_encoder,
)
from tests.media import child_boxes, inspect_mp4, moof_video_duration, speech_like, top_level_boxes

W, H = 160, 96
Writer = FragmentedMP4Writer


def moving_frames(n: int) -> list[np.ndarray]:
    """yuv420p frames: a grey gradient with a bright square sliding right."""
    frames = []
    for i in range(n):
        buf = np.full((H * 3 // 2, W), 128, dtype=np.uint8)
        buf[:H] = np.linspace(40, 200, W, dtype=np.uint8)[None, :]
        x = (i * 3) % (W - 20)
        buf[30:50, x : x + 20] = 235
        frames.append(buf)
    return frames


def write_all(n: int, audio: np.ndarray) -> tuple[bytes, list[bytes], Writer]:
    writer = FragmentedMP4Writer(W, H, audio)
    pieces = [writer.header()]
    for frame in moving_frames(n):
        pieces += writer.write(frame)
    pieces += writer.close()
    return b"".join(pieces), pieces, writer


def test_box_splitter_reassembles_any_chunking() -> None:
    large = b"\x00\x00\x00\x01mdat" + (20).to_bytes(8, "big") + b"x" * 4  # 64-bit size form
    boxes = [b"\x00\x00\x00\x0cftypabcd", b"\x00\x00\x00\x08free", large]
    stream = b"".join(boxes)
    for step in (1, 3, 7, len(stream)):
        sink = BoxSplitter()
        for i in range(0, len(stream), step):
            sink.write(stream[i : i + step])
        assert [data for _, data in sink.boxes] == boxes
        assert [kind for kind, _ in sink.boxes] == ["ftyp", "free", "mdat"]
        assert sink.pending == 0


def test_box_splitter_rejects_corrupt_sizes() -> None:
    with pytest.raises(BoxError):
        BoxSplitter().write(b"\x00\x00\x00\x03moov")


def test_writer_emits_init_then_fragments() -> None:
    n = 60
    data, pieces, writer = write_all(n, speech_like(n / 25))
    boxes = top_level_boxes(data)
    kinds = [k for k, _, _ in boxes]
    assert kinds[:2] == ["ftyp", "moov"]
    assert kinds[2:] == ["moof", "mdat"] * ((len(kinds) - 2) // 2) and len(kinds) % 2 == 0
    _, moov_at, moov_size = boxes[1]
    assert "mvex" in [k for k, _, _ in child_boxes(data, moov_at + 8, moov_at + moov_size)]
    # each piece after the init segment is exactly one moof+mdat pair
    assert [k for k, _, _ in top_level_boxes(pieces[0])] == ["ftyp", "moov"]
    for piece in pieces[1:]:
        assert [k for k, _, _ in top_level_boxes(piece)] == ["moof", "mdat"]
    durations = [moof_video_duration(data, o, s) for k, o, s in boxes if k == "moof"]
    assert max(durations) <= 1.0 + 1e-6  # no sample stretched to make room for the AAC priming
    assert sum(durations) == pytest.approx(n / 25)
    assert sum(video_samples(p[: top_level_boxes(p)[0][2]]) for p in pieces[1:]) == n
    assert writer.video_frames_out == n
    facts = inspect_mp4(data)
    assert facts.n_frames == n and (facts.width, facts.height) == (W, H)
    assert facts.codec == "h264" and facts.pix_fmt == "yuv420p"
    assert facts.audio_codec == "aac" and facts.audio_rate == 24000 and facts.audio_channels == 1
    # the sliding square is really there
    assert facts.frames[10][40, 33:50].mean() > 200


def test_writer_is_deterministic() -> None:
    audio = speech_like(1.0, seed=4)
    assert write_all(25, audio)[0] == write_all(25, audio)[0]


def test_writer_without_audio_samples_still_closes() -> None:
    data, _, _ = write_all(5, np.zeros(0, dtype=np.float32))
    assert inspect_mp4(data).n_frames == 5


def test_writer_abort_drops_the_output() -> None:
    started = threading.active_count()
    writer = FragmentedMP4Writer(W, H, speech_like(5.0))
    for frame in moving_frames(3):
        writer.write(frame)
    writer.abort()
    assert writer.close() == []
    assert threading.active_count() == started  # the writer runs on the caller's thread only


def test_writer_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError):
        FragmentedMP4Writer(161, 96, speech_like(0.2))


def test_plain_encoder_counts_frames() -> None:
    assert encode_yuv_frames_plain(moving_frames(12), W, H) == 12


def test_audio_track_lasts_as_long_as_the_input() -> None:
    """The encoder priming stands in for the first input samples: the track starts at 0 and ends with the input."""
    audio = speech_like(1.987, seed=3)
    data, _, _ = write_all(50, audio)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        packets = [p for p in container.demux(stream) if p.pts is not None]
    with av.open(io.BytesIO(data)) as container:
        decoded = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    assert packets[0].pts == 0
    assert sum(p.duration for p in packets) == audio.size
    assert decoded.size >= audio.size
    # the decoded speech sits where the input had it (no 43 ms shift): compare envelopes past the lead-in
    hop = 240
    def envelope(x: np.ndarray) -> np.ndarray:
        frames = x[: audio.size // hop * hop].reshape(-1, hop)
        return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    got, want = envelope(decoded)[8:], envelope(audio)[8:]
    lags = {lag: np.corrcoef(got[8 + lag : len(got) - 8 + lag], want[8 : len(want) - 8])[0, 1] for lag in range(-7, 8)}
    assert max(lags, key=lambda k: lags[k]) == 0 and lags[0] > 0.95


def test_lead_in_trim() -> None:
    audio = np.ones(3000, np.float32)
    fed = lead_in_trimmed(audio)
    assert fed.size == 3000 - AAC_PRIMING and fed[0] < 0.1 and fed[100] == 1.0
    assert lead_in_trimmed(np.ones(10, np.float32)).size == 1  # always at least one sample
    assert lead_in_trimmed(np.zeros(0, np.float32)).size == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own niceness is a Linux feature")
def test_threads_beside_the_encoder_run_at_a_lower_priority() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness()
    seen: list[int] = []

    def helper() -> None:
        yield_to_encoder()
        seen.append(niceness())

    thread = threading.Thread(target=helper)
    thread.start()
    thread.join()
    assert seen == [min(19, before + HELPER_NICENESS)]
    assert niceness() == before  # only the calling thread moved


def test_audio_is_encoded_just_as_far_as_the_muxer_needs() -> None:
    audio = speech_like(60.0)
    writer = FragmentedMP4Writer(W, H, audio)

    def encoded() -> int:  # where the newest encoded AAC packet ends, muxed or waiting
        last = writer._a_packets[-1] if writer._a_packets else None
        return 0 if last is None else (last.pts or 0) + (last.duration or 0)

    try:
        frame = np.zeros((H * 3 // 2, W), np.uint8)
        for frames in (1, 50, 51):
            while writer.frames_in < frames:
                writer.write(frame)
            wanted = (frames + AUDIO_LEAD_FRAMES) * (24000 // 25)
            assert wanted <= encoded() <= wanted + AUDIO_CHUNK + AAC_PRIMING  # not the whole minute
    finally:
        writer.abort()
