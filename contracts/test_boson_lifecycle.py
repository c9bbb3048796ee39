"""Core tier: the Video object, its lifecycle, and /content, observed on one polled video."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from contracts import mp4
from contracts.assets import face_png, speech
from contracts.client import Client
from contracts.evidence import Evidence
from contracts.fixtures import ORDER, TERMINAL, Jobs, VideoRun, b64
from contracts.media import DecodeError, decode
from contracts.test_boson_errors import envelope_problem, error_type

ID_RE = re.compile(r"^video_[0-9a-f]{24}$")


def video_problem(v: Any) -> str | None:
    """Why v is not a well-formed Video object, or None."""
    if not isinstance(v, dict):
        return f"not a JSON object: {str(v)[:80]}"
    checks = (
        (isinstance(v.get("id"), str) and ID_RE.match(v["id"]) is not None, "id"),
        (v.get("object") == "video", "object"),
        (isinstance(v.get("model"), str), "model"),
        (v.get("status") in ORDER, "status"),
        (type(v.get("progress")) is int and 0 <= v["progress"] <= 100, "progress"),
        (isinstance(v.get("size"), str), "size"),
        (type(v.get("created_at")) is int, "created_at"),
        ("error" in v and (v["error"] is None or isinstance(v["error"], str)), "error"),
    )
    bad = [name for ok, name in checks if not ok]
    return f"bad {', '.join(bad)} in {v}" if bad else None


def sequence(run: VideoRun) -> list[dict[str, Any]]:
    """Every Video read, in order, starting with the create response."""
    first = run.create.json() if run.create is not None and run.create.status_code == 200 else None
    return ([first] if isinstance(first, dict) else []) + run.videos


@pytest.mark.tier("core")
@pytest.mark.clause(
    "BOSON-VIDEO-CREATE-QUEUED", "BOSON-VIDEO-OBJECT-SHAPE", "BOSON-VIDEO-SIZE-ECHO", "BOSON-VIDEO-RETRIEVE"
)
def test_create_returns_queued_video(jobs: Jobs, ev: Evidence) -> None:
    """Operation: POST /v1/videos (JSON, audio input, size 640x480), then GET /v1/videos/{id}.
    Requirement: MUST answer 200 with a queued Video (progress 0, error null) that GET returns by id.
    """
    run = jobs.polled()
    assert run.create is not None
    created = run.create.json()
    ok = created.get("status") == "queued" and created.get("progress") == 0 and created.get("error") is None
    ev.check(
        "BOSON-VIDEO-CREATE-QUEUED",
        ok and run.create.status_code == 200,
        f"create answered {run.create.status_code} status={created.get('status')} "
        f"progress={created.get('progress')} error={created.get('error')!r}",
    )
    for v in sequence(run):
        problem = video_problem(v)
        ev.check("BOSON-VIDEO-OBJECT-SHAPE", problem is None, problem or "well-formed")
        ev.check("BOSON-VIDEO-SIZE-ECHO", v.get("size") == "640x480", f"size {v.get('size')!r}, asked 640x480")
    first = run.observations[0]
    ev.check(
        "BOSON-VIDEO-RETRIEVE",
        first.status == 200 and isinstance(first.video, dict) and first.video.get("id") == created.get("id"),
        f"GET answered {first.status} {first.video}",
    )


@pytest.mark.tier("core")
@pytest.mark.clause(
    "BOSON-VIDEO-STATUS-MONOTONE",
    "BOSON-VIDEO-PROGRESS-MONOTONE",
    "BOSON-VIDEO-TERMINAL-STABLE",
    "BOSON-VIDEO-COMPLETED-PROGRESS-100",
    "BOSON-VIDEO-ERROR-NULL-UNLESS-FAILED",
)
def test_lifecycle_invariants(jobs: Jobs, ev: Evidence) -> None:
    """Operation: GET /v1/videos/{id} polled from creation to a terminal state and a few reads beyond.
    Requirement: MUST move only forward, never lower progress, stay terminal, and complete at 100 with error null.
    """
    run = jobs.polled()
    videos = [v for v in sequence(run) if isinstance(v, dict) and v.get("status") in ORDER]
    statuses = [v["status"] for v in videos]
    ev.check(
        "BOSON-VIDEO-STATUS-MONOTONE",
        len(videos) == len(sequence(run)),
        f"statuses seen: {[v.get('status') for v in sequence(run)]}",
    )
    for a, b in itertools.pairwise(videos):
        forward = ORDER[b["status"]] >= ORDER[a["status"]] and (
            a["status"] not in TERMINAL or a["status"] == b["status"]
        )
        ev.check("BOSON-VIDEO-STATUS-MONOTONE", forward, f"{a['status']} -> {b['status']}")
        ev.check(
            "BOSON-VIDEO-PROGRESS-MONOTONE",
            b["progress"] >= a["progress"],
            f"progress {a['progress']} -> {b['progress']} ({a['status']} -> {b['status']})",
        )
        if a["status"] in TERMINAL:
            same = (a["status"], a["progress"], a["error"]) == (b["status"], b["progress"], b["error"])
            ev.check(
                "BOSON-VIDEO-TERMINAL-STABLE", same, f"{a['status']}/{a['progress']} -> {b['status']}/{b['progress']}"
            )
    terminal_reads = [v for v in videos if v["status"] in TERMINAL]
    ev.check("BOSON-VIDEO-TERMINAL-STABLE", len(terminal_reads) >= 2, f"{len(terminal_reads)} terminal reads")
    ev.check(
        "BOSON-VIDEO-STATUS-MONOTONE",
        bool(statuses) and statuses[-1] == "completed",
        f"the suite's valid request ended {statuses[-1:] or 'unread'} "
        f"(error {videos[-1].get('error') if videos else None!r})",
    )
    for v in videos:
        if v["status"] == "completed":
            ev.check(
                "BOSON-VIDEO-COMPLETED-PROGRESS-100",
                v["progress"] == 100 and v["error"] is None,
                f"completed with progress {v['progress']} error {v['error']!r}",
            )
        if v["status"] == "failed":
            ev.check(
                "BOSON-VIDEO-ERROR-NULL-UNLESS-FAILED",
                isinstance(v["error"], str) and bool(v["error"]),
                f"failed with error {v['error']!r}",
            )
        else:
            ev.check(
                "BOSON-VIDEO-ERROR-NULL-UNLESS-FAILED", v["error"] is None, f"{v['status']} with error {v['error']!r}"
            )
    if "completed" not in statuses:
        ev.check("BOSON-VIDEO-COMPLETED-PROGRESS-100", False, "never saw the video completed")


@pytest.mark.tier("core")
@pytest.mark.clause(
    "BOSON-CONTENT-404-UNTIL-COMPLETED",
    "BOSON-CONTENT-RANGE",
    "BOSON-CONTENT-MOOV-FIRST",
    "BOSON-ERROR-INVALID-VARIANT-400",
    "BOSON-ERROR-ENVELOPE",
)
def test_content(jobs: Jobs, client: Client, ev: Evidence) -> None:
    """Operation: GET /v1/videos/{id}/content while polling and after completion (plain, Range, bad variant).
    Requirement: MUST answer 404 until completed and video/mp4 after; SHOULD honour Range and put moov first.
    """
    run = jobs.polled()
    for o in run.observations:
        before = (o.video or {}).get("status")
        after = (o.after or {}).get("status")
        if o.content_status in (200, 206):
            ev.check(
                "BOSON-CONTENT-404-UNTIL-COMPLETED",
                after == "completed",
                f"content answered {o.content_status} while the video read {after!r} right after",
            )
        elif before == "completed":
            ev.check(
                "BOSON-CONTENT-404-UNTIL-COMPLETED", False, f"content answered {o.content_status} for a completed video"
            )
        elif o.content_status == 404:
            ev.check("BOSON-CONTENT-404-UNTIL-COMPLETED", True, f"404 while {before}")
        else:
            ev.check("BOSON-CONTENT-404-UNTIL-COMPLETED", False, f"content answered {o.content_status} while {before}")
    assert run.content is not None, f"video ended {run.final}"
    ctype = run.content.headers.get("content-type", "")
    ev.check(
        "BOSON-CONTENT-404-UNTIL-COMPLETED",
        run.content.status_code == 200 and ctype.startswith("video/mp4"),
        f"completed content: {run.content.status_code} {ctype}",
    )
    data = run.content.content
    try:
        types = [b.type for b in mp4.top_level(data)]
        ok = "moov" in types and "mdat" in types and types.index("moov") < types.index("mdat")
        ev.check("BOSON-CONTENT-MOOV-FIRST", ok, f"top-level boxes {types[:6]}")
    except mp4.BoxError as exc:
        ev.check("BOSON-CONTENT-MOOV-FIRST", False, f"not an MP4: {exc}")
    path = f"/v1/videos/{run.video_id}/content"
    r = client.get(path, headers={"Range": "bytes=0-99"})
    ev.check(
        "BOSON-CONTENT-RANGE",
        r.status_code == 206 and r.content == data[:100],
        f"bytes=0-99: {r.status_code}, {len(r.content)} bytes, match={r.content == data[:100]}",
    )
    r = client.get(path, headers={"Range": f"bytes={len(data) - 50}-"})
    ev.check(
        "BOSON-CONTENT-RANGE",
        r.status_code == 206 and r.content == data[-50:],
        f"suffix from {len(data) - 50}: {r.status_code}",
    )
    r = client.get(path, headers={"Range": f"bytes={len(data) + 10}-"})
    ev.check("BOSON-CONTENT-RANGE", r.status_code == 416, f"beyond the end: {r.status_code}")
    r = client.get(path, params={"variant": "thumbnail"})
    ev.check(
        "BOSON-ERROR-INVALID-VARIANT-400",
        r.status_code == 400 and error_type(r) == "invalid_variant",
        f"variant=thumbnail: {r.status_code} type={error_type(r)}",
    )
    problem = envelope_problem(r)
    ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"invalid_variant body: {problem or 'ok'}")
    r = client.get(path, params={"variant": "video"})
    ev.check(
        "BOSON-ERROR-INVALID-VARIANT-400", r.status_code == 200 and r.content == data, f"variant=video: {r.status_code}"
    )


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-VIDEO-CREATE-MULTIPART")
def test_multipart_create(client: Client, ev: Evidence) -> None:
    """Operation: POST /v1/videos as multipart/form-data with ref_image and input uploaded as files.
    Requirement: MUST answer 200 with a queued Video of the requested size.
    """
    files = {"ref_image": ("face.png", face_png(), "image/png"), "input": ("speech.wav", speech().wav, "audio/wav")}
    r = client.create("/v1/videos", files=files, data={"size": "480x640", "model": "higgs-avatar"})
    body = r.json() if r.status_code == 200 else {}
    ok = r.status_code == 200 and video_problem(body) is None and body.get("size") == "480x640"
    ev.check("BOSON-VIDEO-CREATE-MULTIPART", ok, f"{r.status_code} {str(body or r.text)[:200]}")


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-VIDEO-CREATE-TTS")
def test_text_to_video(jobs: Jobs, client: Client, ev: Evidence) -> None:
    """Operation: POST /v1/videos with input_tts, polled to completion, then /content.
    Requirement: MUST complete and the MP4 MUST carry an audio track.
    """
    body = {
        "ref_image": b64(face_png()),
        "input_tts": {"model": "higgs-tts-3", "input": "Hello there.", "voice": "default"},
    }
    r = client.create("/v1/videos", json=body)
    assert r.status_code == 200, f"create answered {r.status_code}: {r.text[:200]}"
    run = VideoRun(requested_size="640x640", create=r, video_id=r.json().get("id"))
    jobs.poll(run, probe_content=False)
    ok = run.final is not None and run.final.get("status") == "completed" and run.content is not None
    ev.check("BOSON-VIDEO-CREATE-TTS", ok, f"ended {run.final}")
    if run.content is not None:
        try:
            decoded = decode(run.content.content)
            ev.check(
                "BOSON-VIDEO-CREATE-TTS",
                decoded.has_audio and decoded.audio is not None and float(abs(decoded.audio).max(initial=0.0)) > 0.01,
                "audio track present and not silent",
            )
        except DecodeError as exc:
            ev.check("BOSON-VIDEO-CREATE-TTS", False, str(exc))
