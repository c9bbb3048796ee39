"""Core tier, HeyGen: what the completed video's links serve (MP4 size, length, audio, pixels; previews)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import BACKGROUND, BACKGROUND_RGB, SCENE_SECONDS, SMALL, is_number
from contracts.heygen_jobs import HgJobs, HgRun
from contracts.media import Decoded, DecodeError, colour_distance, decode, region_mean, rgb_frames

MIN_CONTRAST = 8.0
COLOUR_TOLERANCE = 40.0
# Side strips of the frame (x0, y0, x1, y1 as fractions): an avatar at scale 1 stands in the middle.
SIDES = ((0.0, 0.1, 0.12, 0.3), (0.88, 0.1, 1.0, 0.3))


def _completed(hg_jobs: HgJobs) -> HgRun:
    run = hg_jobs.main()
    assert run.status == "completed", f"the video ended {run.status}: {(run.final or {}).get('error')}"
    assert run.mp4 is not None, "no video_url to download"
    return run


def _decoded(run: HgRun) -> Decoded:
    assert run.mp4 is not None and run.mp4.status_code == 200, f"video_url answered {run.mp4 and run.mp4.status_code}"
    return decode(run.mp4.content)


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-MEDIA-DOWNLOAD", "HEYGEN-MEDIA-SIZE", "HEYGEN-MEDIA-AUDIO-TRACK")
def test_download_size_audio(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: GET the completed video_url without the API key; decode it.
    Requirement: MUST be a decodable MP4 of the requested 256x144 with an audio track.
    """
    run = _completed(hg_jobs)
    assert run.mp4 is not None
    ctype = run.mp4.headers.get("content-type", "")
    try:
        d = _decoded(run)
    except (AssertionError, DecodeError) as exc:
        ev.check("HEYGEN-MEDIA-DOWNLOAD", False, f"{ctype}: {exc}")
        return
    shown = f"{ctype}, {len(run.mp4.content)} bytes, {len(d.frames)} frames"
    ev.check("HEYGEN-MEDIA-DOWNLOAD", len(d.frames) > 0, shown)
    want = (SMALL["width"], SMALL["height"])
    ev.check("HEYGEN-MEDIA-SIZE", (d.width, d.height) == want, f"decoded {d.width}x{d.height}, asked {want}")
    has_audio = d.audio is not None and len(d.audio) > 0
    ev.check("HEYGEN-MEDIA-AUDIO-TRACK", has_audio, f"audio track present: {has_audio}")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-MEDIA-DURATION")
def test_duration(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: decode the video of two silence scenes (1 s + 1.5 s) and read data.duration.
    Requirement: both MUST equal 2.5 s within one frame per scene.
    """
    run = _completed(hg_jobs)
    d = _decoded(run)
    want = sum(SCENE_SECONDS)
    slack = len(SCENE_SECONDS) / d.fps + 1e-3
    ev.check(
        "HEYGEN-MEDIA-DURATION",
        abs(d.frame_duration - want) <= slack,
        f"{len(d.frames)} frames at {d.fps:g} fps = {d.frame_duration:.3f} s; scenes sum to {want:.3f} s",
    )
    reported: Any = (run.final or {}).get("duration")
    ev.check(
        "HEYGEN-MEDIA-DURATION",
        is_number(reported) and abs(float(reported) - want) <= slack,
        f"data.duration {reported!r}; scenes sum to {want:.3f} s",
    )


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-MEDIA-NOT-BLANK", "HEYGEN-MEDIA-BACKGROUND")
def test_pixels(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: decode frames of the video (an avatar on a magenta background).
    Requirement: frames MUST have real contrast; the magenta SHOULD show beside the avatar.
    """
    run = _completed(hg_jobs)
    d = _decoded(run)
    contrasts = [float(f.std()) for f in d.frames[:: max(1, len(d.frames) // 10)]]
    ev.check(
        "HEYGEN-MEDIA-NOT-BLANK",
        min(contrasts) >= MIN_CONTRAST,
        f"lowest sampled frame contrast (luma std) {min(contrasts):.1f} (need {MIN_CONTRAST})",
    )
    assert run.mp4 is not None
    for fraction, frame in zip((0.2, 0.7), rgb_frames(run.mp4.content, (0.2, 0.7)), strict=True):
        means = [region_mean(frame, side) for side in SIDES]
        distance = min(colour_distance(m, BACKGROUND_RGB) for m in means)
        ev.check(
            "HEYGEN-MEDIA-BACKGROUND",
            distance <= COLOUR_TOLERANCE,
            f"frame at {fraction:.0%}: side colours {[tuple(int(v) for v in m) for m in means]}, asked {BACKGROUND}",
        )


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-MEDIA-PREVIEWS")
def test_previews(client: Client, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: GET the completed video's thumbnail_url and gif_url without the API key.
    Requirement: SHOULD serve a JPEG and a GIF.
    """
    run = _completed(hg_jobs)
    final = run.final or {}
    for key, magic in (("thumbnail_url", (b"\xff\xd8\xff",)), ("gif_url", (b"GIF87a", b"GIF89a"))):
        url = final.get(key)
        if not isinstance(url, str):
            ev.check("HEYGEN-MEDIA-PREVIEWS", False, f"{key} is {url!r}")
            continue
        r = client.get(url, auth=False)
        ok = r.status_code == 200 and r.content.startswith(magic)
        ev.check("HEYGEN-MEDIA-PREVIEWS", ok, f"{key}: {r.status_code} {r.content[:6]!r}")
