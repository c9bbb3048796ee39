"""Full tier, HeyGen: what a multi-scene video shows, how a burst of videos queues, and when links expire."""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
import pytest

from contracts.assets import two_tone_png
from contracts.burst import burst, max_certainly_concurrent
from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import (
    STATUS_PATH,
    Catalog,
    avatar,
    body,
    json_of,
    silence_scene,
    upload_url,
)
from contracts.heygen_jobs import HgJobs, HgRun
from contracts.media import DecodeError, colour_distance, region_mean, rgb_video
from contracts.target import NotApplicable, Target

PORTRAIT = {"width": 240, "height": 320}
RED, BLUE = (255, 0, 0), (0, 0, 255)
YELLOW, TEAL = (255, 255, 0), (0, 200, 200)
SCENES = ((1.0, "colour #ff0000"), (1.5, "image: yellow over teal"), (1.0, "colour #0000ff + yellow text"))
"""(seconds, what shows) of the composition video's three silence scenes."""
CORNERS = {
    "top-left": (0.02, 0.02, 0.12, 0.10),
    "top-right": (0.88, 0.02, 0.98, 0.10),
    "bottom-left": (0.02, 0.86, 0.12, 0.97),
    "bottom-right": (0.88, 0.86, 0.98, 0.97),
}
"""Frame corners, clear of an avatar at scale 0.6 in the middle and of a text near the top centre."""
EXPECTED = (
    dict.fromkeys(CORNERS, RED),
    {"top-left": YELLOW, "top-right": YELLOW, "bottom-left": TEAL, "bottom-right": TEAL},
    dict.fromkeys(CORNERS, BLUE),
)
COLOUR_TOLERANCE = 45.0
TEXT_BAND = (0.2, 0.0, 0.8, 0.2)
"""Where the overlay (top edge at y 0.05, centred) must show."""
MIN_TEXT_PIXELS = 0.005
"""Share of the band's pixels that must be the text's colour."""
WEEK_S = 7 * 24 * 3600


def _compose_request(catalog: Catalog, image_asset_id: str) -> dict[str, Any]:
    def scene(seconds: float, background: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "character": avatar(catalog, scale=0.6),
            "voice": {"type": "silence", "duration": seconds},
            "background": background,
            **extra,
        }

    text = {"text": "HELLO", "color": "#ffff00", "font_size": 28, "position": {"x": 0.5, "y": 0.05}}
    return body(
        catalog,
        scene(SCENES[0][0], {"type": "color", "value": "#ff0000"}),
        scene(SCENES[1][0], {"type": "image", "image_asset_id": image_asset_id}),
        scene(SCENES[2][0], {"type": "color", "value": "#0000ff"}, text=text),
        dimension=dict(PORTRAIT),
        callback_id="conformance-compose",
    )


def _composed(client: Client, target: Target, hg_jobs: HgJobs) -> HgRun:
    """Upload the two-tone image, generate the three-scene portrait video, poll it and download it."""

    def make() -> HgRun:
        target.require_budget(1)
        png = two_tone_png(2 * PORTRAIT["width"], 2 * PORTRAIT["height"], YELLOW, TEAL)
        up = client.post(upload_url(target.base_url), content=png, headers={"Content-Type": "image/png"})
        data = (json_of(up) or {}).get("data") if up.status_code == 200 else None
        asset_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(asset_id, str):
            raise AssertionError(f"uploading the background image answered {up.status_code}: {up.text[:160]}")
        run = hg_jobs.start(_compose_request(hg_jobs.catalog, asset_id))
        hg_jobs.poll(run)
        final = run.final or {}
        if final.get("status") != "completed" or not isinstance(final.get("video_url"), str):
            raise AssertionError(f"the composition video ended {final.get('status')}: {final.get('error')}")
        run.mp4 = client.get(final["video_url"], auth=False)
        return run

    return hg_jobs.cached("compose", make)


def _scene_of(frame: np.ndarray) -> int | None:
    """Which scene's background the frame's corners show (0-based), or None."""
    for index, want in enumerate(EXPECTED):
        if all(colour_distance(region_mean(frame, CORNERS[c]), want[c]) <= COLOUR_TOLERANCE for c in CORNERS):
            return index
    return None


def _runs(labels: list[int | None]) -> list[tuple[int | None, int, int]]:
    """(label, first frame, frame count) of each run of equal labels."""
    out: list[tuple[int | None, int, int]] = []
    for i, label in enumerate(labels):
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1], out[-1][2] + 1)
        else:
            out.append((label, i, 1))
    return out


def _yellow_share(frame: np.ndarray) -> tuple[float, float]:
    """(share of TEXT_BAND pixels that are yellow, their mean height as a fraction of the frame)."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = TEXT_BAND
    band = frame[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].astype(np.int16)
    yellow = (band[..., 0] > 190) & (band[..., 1] > 190) & (band[..., 2] < 100)
    if not yellow.any():
        return 0.0, -1.0
    rows = np.nonzero(yellow)[0]
    return float(yellow.mean()), float((rows.mean() + int(y0 * h)) / h)


@pytest.mark.tier("full")
@pytest.mark.clause(
    "HEYGEN-COMPOSE-BACKGROUNDS", "HEYGEN-COMPOSE-SCENE-TIMING", "HEYGEN-COMPOSE-TEXT", "HEYGEN-MEDIA-SIZE"
)
def test_scene_composition(client: Client, target: Target, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: upload a two-tone PNG (POST /v1/asset); generate a 240x320 video of three silence scenes (1 s on
    #ff0000, 1.5 s on the image by image_asset_id, 1 s on #0000ff with a yellow text near the top), avatar at
    scale 0.6; download and decode every frame.
    Requirement: MUST be 240x320 and show each scene's background in order, each scene starting when the ones
    before it have played (within one frame per scene); the text SHOULD show, yellow, near the top, in its scene.
    """
    run = _composed(client, target, hg_jobs)
    assert run.mp4 is not None
    try:
        frames, fps = rgb_video(run.mp4.content)
    except DecodeError as exc:
        for clause in ("HEYGEN-COMPOSE-BACKGROUNDS", "HEYGEN-COMPOSE-SCENE-TIMING", "HEYGEN-MEDIA-SIZE"):
            ev.check(clause, False, f"video_url ({run.mp4.status_code}): {exc}")
        return
    h, w = frames[0].shape[:2]
    want = (PORTRAIT["width"], PORTRAIT["height"])
    ev.check("HEYGEN-MEDIA-SIZE", (w, h) == want, f"composition video decoded {w}x{h}, asked {want[0]}x{want[1]}")
    labels = [_scene_of(f) for f in frames]
    runs = _runs(labels)
    order = [label for label, _, count in runs if label is not None and count >= 2]
    shown = [(f"scene {label + 1}" if label is not None else "?", f"{start / fps:.2f}s", n) for label, start, n in runs]
    ev.check("HEYGEN-COMPOSE-BACKGROUNDS", order == [0, 1, 2], f"backgrounds seen in order {shown[:8]}")
    for index, (_, what) in enumerate(SCENES):
        frame = frames[min(len(frames) - 1, int(fps * (sum(s for s, _ in SCENES[:index]) + SCENES[index][0] / 2)))]
        corners = {c: tuple(int(v) for v in region_mean(frame, CORNERS[c])) for c in CORNERS}
        ev.check(
            "HEYGEN-COMPOSE-BACKGROUNDS",
            _scene_of(frame) == index,
            f"middle of scene {index + 1} ({what}): corners {corners}",
        )
    start = 0.0
    for index in range(1, len(SCENES)):
        start += SCENES[index - 1][0]
        first = next((i for i, label in enumerate(labels) if label == index), None)
        slack = index / fps + 1e-3
        got = None if first is None else first / fps
        ev.check(
            "HEYGEN-COMPOSE-SCENE-TIMING",
            got is not None and abs(got - start) <= slack,
            f"scene {index + 1} starts at {got if got is None else round(got, 3)} s, want {start:.3f} s "
            f"(+-{slack:.3f})",
        )
    _judge_text(ev, frames, labels)


def _judge_text(ev: Evidence, frames: list[np.ndarray], labels: list[int | None]) -> None:
    with_text = [_yellow_share(f) for f, label in zip(frames, labels, strict=True) if label == 2]
    without = [_yellow_share(f)[0] for f, label in zip(frames, labels, strict=True) if label == 0]
    if not with_text:
        ev.check("HEYGEN-COMPOSE-TEXT", False, "no frame of the text's scene was recognised")
        return
    shares = [share for share, _ in with_text]
    heights = [y for share, y in with_text if share >= MIN_TEXT_PIXELS]
    ev.check(
        "HEYGEN-COMPOSE-TEXT",
        min(shares) >= MIN_TEXT_PIXELS,
        f"yellow text pixels near the top in scene 3: {min(shares):.2%} to {max(shares):.2%} of the band "
        f"(need {MIN_TEXT_PIXELS:.1%})",
    )
    ev.check(
        "HEYGEN-COMPOSE-TEXT",
        bool(heights) and max(heights) <= 0.2,
        f"text centre at {max(heights, default=-1):.2f} of the frame height (asked top at 0.05)",
    )
    ev.check(
        "HEYGEN-COMPOSE-TEXT",
        bool(without) and max(without) < MIN_TEXT_PIXELS / 5,
        f"yellow in the same band of scene 1 (no text asked): {max(without, default=0):.2%}",
    )


# ----- queue ----------------------------------------------------------------------------------------------


@pytest.mark.tier("full")
@pytest.mark.clause("HEYGEN-QUEUE-BURST", "HEYGEN-QUEUE-CONCURRENCY")
def test_queue(hg_jobs: HgJobs, pytestconfig: pytest.Config, ev: Evidence) -> None:
    """Operation: generate concurrency + 2 one-second videos back to back (test mode, 256x144), then read every
    video's status round-robin until all have ended.
    Requirement: MUST accept and complete them all; at no read MAY more than --heygen-concurrency be processing.
    """
    concurrency: int | None = pytestconfig.getoption("--heygen-concurrency")
    made = burst(hg_jobs, (concurrency or 3) + 2)
    for run in made.runs:
        seen = [status for _, _, status in made.reads.get(str(run.video_id), [])]
        compressed = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
        ev.check(
            "HEYGEN-QUEUE-BURST", bool(seen) and seen[-1] == "completed", f"{run.video_id}: statuses {compressed}"
        )
    if concurrency is None:
        ev.na("HEYGEN-QUEUE-CONCURRENCY", "the account's concurrency is unknown: pass --heygen-concurrency N")
        return
    most = max_certainly_concurrent(made.reads)
    ev.check(
        "HEYGEN-QUEUE-CONCURRENCY",
        most <= concurrency,
        f"at most {most} of {len(made.runs)} videos were processing at once (concurrency {concurrency})",
    )


# ----- link expiry ------------------------------------------------------------------------------------------


def _clock_control(client: Client) -> None:
    """NotApplicable unless the target exposes a clock the suite may advance (the emulator's control plane)."""
    reason = (
        "links last 7 days: checking that they expire needs a clock the suite can advance "
        "(the emulator's /_emulator/clock); a real API has none"
    )
    r = client.get("/_emulator/health", auth=False)
    health = json_of(r) if r.status_code == 200 else None
    if not isinstance(health, dict) or "clock" not in (health.get("capabilities") or []):
        raise NotApplicable(reason)


@pytest.mark.tier("full")
@pytest.mark.clause("HEYGEN-URL-EXPIRY")
def test_links_expire(client: Client, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: in a tenant of its own, generate a short video, fetch its video_url, advance that tenant's clock
    by 7 days and an hour (POST /_emulator/clock), fetch the same link, then a link from a fresh status read.
    Requirement: MUST refuse (4xx) the expired link and serve the fresh one.
    """
    hg_jobs.target.require_budget(1)
    _clock_control(client)
    tenant = {"X-Emulator-Tenant": f"conformance-expiry-{secrets.token_hex(4)}"}
    try:
        catalog = hg_jobs.catalog
        run = hg_jobs.start(body(catalog, silence_scene(catalog, 1.0)), headers=tenant)
        hg_jobs.poll(run, headers=tenant)
        old = (run.final or {}).get("video_url")
        if run.status != "completed" or not isinstance(old, str):
            raise AssertionError(f"the video ended {run.status}: {(run.final or {}).get('error')}")
        first = client.get(old, auth=False, headers={"Range": "bytes=0-15"})
        ev.check("HEYGEN-URL-EXPIRY", first.status_code in (200, 206), f"fresh link: {first.status_code}")
        moved = client.post("/_emulator/clock", auth=False, headers=tenant, json={"advance": WEEK_S + 3600})
        if moved.status_code != 200:
            raise AssertionError(f"advancing the clock answered {moved.status_code}: {moved.text[:160]}")
        expired = client.get(old, auth=False, headers={"Range": "bytes=0-15"})
        ev.check("HEYGEN-URL-EXPIRY", 400 <= expired.status_code < 500, f"7 days later: {expired.status_code}")
        again = json_of(client.get(STATUS_PATH, params={"video_id": run.video_id}, headers=tenant))
        data = again.get("data") if isinstance(again, dict) else None
        new = data.get("video_url") if isinstance(data, dict) else None
        fresh = client.get(new, auth=False, headers={"Range": "bytes=0-15"}) if isinstance(new, str) else None
        ok = fresh is not None and fresh.status_code in (200, 206) and new != old
        ev.check("HEYGEN-URL-EXPIRY", ok, f"re-signed link: {fresh.status_code if fresh else new!r}")
    finally:
        client.request("DELETE", f"/_emulator/tenants/{tenant['X-Emulator-Tenant']}", auth=False)
