"""Core tier: POST /v1/videos/stream delivers a live fragmented MP4 that matches the stored video."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest

from contracts import mp4
from contracts.evidence import Evidence
from contracts.fixtures import Jobs, VideoRun
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


def _streams(jobs: Jobs, ev: Evidence, clauses: tuple[str, ...]) -> list[tuple[str, VideoRun]]:
    """Both streamed runs; one that could not be made fails the given clauses and is left out."""
    out = []
    for label, make in (("JSON audio stream", jobs.streamed), ("multipart input_tts stream", jobs.streamed_multipart)):
        try:
            out.append((label, make()))
        except AssertionError as exc:
            for clause in clauses:
                ev.check(clause, False, f"{label}: {exc}")
    return out


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-STREAM-HEADERS")
def test_every_stream_is_video_mp4_with_an_id(jobs: Jobs, ev: Evidence) -> None:
    """Operation: POST /v1/videos/stream as JSON (audio input) and as multipart (face file, input_tts).
    Requirement: every 200 MUST carry Content-Type video/mp4 and an X-Video-Id header.
    """
    for label, run in _streams(jobs, ev, ("BOSON-STREAM-HEADERS",)):
        headers = run.stream_headers if run.stream_headers is not None else httpx.Headers()
        ctype = headers.get("content-type", "")
        ev.check(
            "BOSON-STREAM-HEADERS",
            ctype.split(";")[0].strip().lower() == "video/mp4",
            f"{label}: Content-Type {ctype!r}",
        )
        vid = headers.get("x-video-id")
        ev.check("BOSON-STREAM-HEADERS", bool(vid), f"{label}: X-Video-Id {vid!r}")


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-STREAM-BOX-ORDER", "BOSON-STREAM-FRAGMENT-SEQUENCE", "BOSON-STREAM-FRAGMENT-DURATION")
def test_stream_boxes(jobs: Jobs, ev: Evidence) -> None:
    """Operation: read the whole body of both streams and parse their top-level boxes.
    Requirement: MUST be laid out as ISO BMFF fragmented MP4 (ftyp, moov with mvex, fragments of moof and mdat,
    optional styp/sidx/prft/emsg/free, an mfra only at the end) with increasing sequence numbers;
    SHOULD keep video fragments at or under 1 s.
    """
    clauses = ("BOSON-STREAM-BOX-ORDER", "BOSON-STREAM-FRAGMENT-SEQUENCE", "BOSON-STREAM-FRAGMENT-DURATION")
    for label, run in _streams(jobs, ev, clauses):
        _judge_boxes(ev, label, run.stream_bytes)


def _judge_boxes(ev: Evidence, label: str, data: bytes) -> None:
    try:
        boxes = mp4.top_level(data)
    except mp4.BoxError as exc:
        ev.check("BOSON-STREAM-BOX-ORDER", False, f"{label}: unparseable stream: {exc}")
        return
    types = [b.type for b in boxes]
    problems = mp4.fragmented_layout_problems(types)
    shown = f"{types[:6]}{'...' if len(types) > 6 else ''} ({len(types)} boxes)"
    ev.check("BOSON-STREAM-BOX-ORDER", not problems, f"{label}: {'; '.join(problems[:3]) or 'laid out'}: {shown}")
    moovs = [b for b in boxes if b.type == "moov"]
    moov = moovs[0] if moovs else None
    ev.check("BOSON-STREAM-BOX-ORDER", moov is not None and bool(moov.find("mvex")), f"{label}: moov contains mvex")
    for mfra in (b for b in boxes if b.type == "mfra"):
        problem = mp4.mfra_problem(mfra)
        ev.check("BOSON-STREAM-BOX-ORDER", problem is None, f"{label}: {problem or 'mfra ends with a matching mfro'}")
    moofs = [b for b in boxes if b.type == "moof"]
    seqs = [mp4.mfhd_sequence(m) for m in moofs]
    increasing = bool(seqs) and None not in seqs and all(b > a for a, b in itertools.pairwise(seqs))  # type: ignore[operator]
    ev.check("BOSON-STREAM-FRAGMENT-SEQUENCE", increasing, f"{label}: mfhd sequence numbers {seqs[:12]}")
    if moov is None or len(moofs) < 2:
        ev.check("BOSON-STREAM-FRAGMENT-DURATION", False, f"{label}: no moov or fewer than two fragments")
        return
    tracks = mp4.track_timescales(moov)
    video = [tid for tid, (handler, _) in tracks.items() if handler == "vide"]
    if not video:
        ev.check("BOSON-STREAM-FRAGMENT-DURATION", False, f"{label}: no video track in moov ({tracks})")
        return
    tid, scale = video[0], tracks[video[0]][1]
    times = [mp4.fragment_times(m).get(tid) for m in moofs]
    known = [t for t in times if t is not None]
    gaps = [(b - a) / scale for a, b in itertools.pairwise(known)]
    ev.check(
        "BOSON-STREAM-FRAGMENT-DURATION",
        bool(gaps) and max(gaps) <= MAX_FRAGMENT_S + 0.05,
        f"{label}: largest video fragment {max(gaps, default=0):.3f} s",
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
