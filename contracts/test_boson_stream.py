"""Core tier: POST /v1/videos/stream delivers a live fragmented MP4 that matches the stored video."""

from __future__ import annotations

import itertools
import re

import pytest

from contracts import mp4
from contracts.evidence import Evidence
from contracts.fixtures import Jobs
from contracts.media import DecodeError, decode

ID_RE = re.compile(r"^video_[0-9a-f]{24}$")
MAX_FRAGMENT_S = 1.0


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-STREAM-VIDEO-ID", "BOSON-STREAM-EARLY-BYTES")
def test_stream_headers(jobs: Jobs, ev: Evidence) -> None:
    """Operation: POST /v1/videos/stream (JSON, audio input), then GET /v1/videos/{X-Video-Id} as headers arrive.
    Requirement: MUST name a retrievable video in X-Video-Id, and MUST start before that video completes.
    """
    run = jobs.streamed()
    vid = run.video_id or ""
    ev.check("BOSON-STREAM-VIDEO-ID", ID_RE.match(vid) is not None, f"X-Video-Id {run.video_id!r}")
    seen = run.status_at_headers or {}
    ev.check("BOSON-STREAM-VIDEO-ID", seen.get("id") == vid and bool(vid), f"GET /v1/videos/{vid} at headers: {seen}")
    ev.check(
        "BOSON-STREAM-VIDEO-ID", (run.final or {}).get("id") == vid and bool(vid), f"after the stream: {run.final}"
    )
    status = seen.get("status")
    ev.check(
        "BOSON-STREAM-EARLY-BYTES",
        status in ("queued", "in_progress"),
        f"the video read {status!r} when the stream's headers arrived",
    )


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-STREAM-BOX-ORDER", "BOSON-STREAM-FRAGMENT-SEQUENCE", "BOSON-STREAM-FRAGMENT-DURATION")
def test_stream_boxes(jobs: Jobs, ev: Evidence) -> None:
    """Operation: read the whole /v1/videos/stream body and parse its boxes.
    Requirement: MUST be ftyp, moov (with mvex), then moof/mdat pairs with increasing sequence numbers;
    SHOULD keep video fragments at or under 1 s.
    """
    data = jobs.streamed().stream_bytes
    try:
        boxes = mp4.top_level(data)
    except mp4.BoxError as exc:
        ev.check("BOSON-STREAM-BOX-ORDER", False, f"unparseable stream: {exc}")
        return
    types = [b.type for b in boxes]
    ev.check("BOSON-STREAM-BOX-ORDER", types[:2] == ["ftyp", "moov"], f"starts {types[:3]}")
    moov = boxes[1] if len(boxes) > 1 and boxes[1].type == "moov" else None
    ev.check("BOSON-STREAM-BOX-ORDER", moov is not None and bool(moov.find("mvex")), "moov contains mvex")
    rest = [t for t in types[2:] if t not in ("free", "skip", "styp", "sidx", "prft", "emsg")]
    pairs = (
        len(rest) >= 2
        and len(rest) % 2 == 0
        and all(rest[i] == "moof" and rest[i + 1] == "mdat" for i in range(0, len(rest), 2))
    )
    ev.check("BOSON-STREAM-BOX-ORDER", pairs, f"after moov: {rest[:8]}{'...' if len(rest) > 8 else ''}")
    moofs = [b for b in boxes if b.type == "moof"]
    seqs = [mp4.mfhd_sequence(m) for m in moofs]
    increasing = bool(seqs) and None not in seqs and all(b > a for a, b in itertools.pairwise(seqs))  # type: ignore[operator]
    ev.check("BOSON-STREAM-FRAGMENT-SEQUENCE", increasing, f"mfhd sequence numbers {seqs[:12]}")
    if moov is None or len(moofs) < 2:
        ev.check("BOSON-STREAM-FRAGMENT-DURATION", False, "no moov or fewer than two fragments")
        return
    tracks = mp4.track_timescales(moov)
    video = [tid for tid, (handler, _) in tracks.items() if handler == "vide"]
    if not video:
        ev.check("BOSON-STREAM-FRAGMENT-DURATION", False, f"no video track in moov ({tracks})")
        return
    tid, scale = video[0], tracks[video[0]][1]
    times = [mp4.fragment_times(m).get(tid) for m in moofs]
    known = [t for t in times if t is not None]
    gaps = [(b - a) / scale for a, b in itertools.pairwise(known)]
    ev.check(
        "BOSON-STREAM-FRAGMENT-DURATION",
        bool(gaps) and max(gaps) <= MAX_FRAGMENT_S + 0.05,
        f"largest video fragment {max(gaps, default=0):.3f} s",
    )


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-STREAM-DECODES", "BOSON-STREAM-CONTENT-MATCHES")
def test_stream_decodes_and_matches_content(jobs: Jobs, ev: Evidence) -> None:
    """Operation: decode the concatenated stream; GET /content of X-Video-Id after completion and decode it.
    Requirement: MUST decode with video frames, and /content MUST have the same frame size and duration.
    """
    run = jobs.streamed()
    try:
        streamed = decode(run.stream_bytes)
        ev.check("BOSON-STREAM-DECODES", len(streamed.frames) > 0, f"{len(streamed.frames)} frames decoded")
    except DecodeError as exc:
        ev.check("BOSON-STREAM-DECODES", False, str(exc))
        ev.check("BOSON-STREAM-CONTENT-MATCHES", False, "nothing to compare: the stream does not decode")
        return
    if run.content is None or run.content.status_code != 200:
        ev.check("BOSON-STREAM-CONTENT-MATCHES", False, f"/content not available; video ended {run.final}")
        return
    try:
        stored = decode(run.content.content)
    except DecodeError as exc:
        ev.check("BOSON-STREAM-CONTENT-MATCHES", False, f"/content: {exc}")
        return
    frame = 1.0 / streamed.fps
    ev.check(
        "BOSON-STREAM-CONTENT-MATCHES",
        (stored.width, stored.height) == (streamed.width, streamed.height),
        f"stream {streamed.width}x{streamed.height}, content {stored.width}x{stored.height}",
    )
    ev.check(
        "BOSON-STREAM-CONTENT-MATCHES",
        abs(stored.frame_duration - streamed.frame_duration) <= frame + 1e-3,
        f"stream {streamed.frame_duration:.3f} s, content {stored.frame_duration:.3f} s",
    )
