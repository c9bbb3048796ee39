"""Core tier, HeyGen: generate's answer, every video_status.get read of the shared videos, links and quota."""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import Any

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import (
    MEDIA_KEYS,
    ORDER,
    STATUS_KEYS,
    STATUS_PATH,
    TERMINAL,
    is_number,
    json_of,
    query_param,
    replace_param,
    v1_ok_problem,
    v2_ok_problem,
)
from contracts.heygen_jobs import HgJobs, HgRun
from contracts.target import NotApplicable

WEEK_S = 7 * 24 * 3600
CLOCK_SLACK_S = 3600


def _runs(hg_jobs: HgJobs) -> list[HgRun]:
    runs = [hg_jobs.main()]
    with contextlib.suppress(AssertionError):  # a target may refuse the unfetchable URL up front (see below)
        runs.append(hg_jobs.failed())
    return runs


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-GENERATE-RETURNS-ID", "HEYGEN-V2-ENVELOPE")
def test_generate_returns_video_id(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: POST /v2/video/generate with two silence scenes (test mode, 256x144).
    Requirement: MUST answer 200 {"error": null, "data": {"video_id": str}}.
    """
    run = hg_jobs.main()
    assert run.create is not None
    problem = v2_ok_problem(run.create)
    ev.check("HEYGEN-V2-ENVELOPE", problem is None, f"generate: {problem or 'ok'}")
    ev.check("HEYGEN-GENERATE-RETURNS-ID", bool(run.video_id), f"video_id {run.video_id!r}")


@pytest.mark.tier("core")
@pytest.mark.clause(
    "HEYGEN-STATUS-ENVELOPE",
    "HEYGEN-V1-ENVELOPE",
    "HEYGEN-STATUS-KEYS",
    "HEYGEN-STATUS-CREATED-AT-INT",
    "HEYGEN-STATUS-CALLBACK-ID",
)
def test_status_shape(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: every GET /v1/video_status.get read of the shared videos, from creation to terminal and beyond.
    Requirement: MUST answer 200 code 100 with all eleven data keys, an integer created_at and the callback_id.
    """
    for run in _runs(hg_jobs):
        callback_id = run.request.get("callback_id")
        for read in run.reads:
            label = f"{run.video_id} at {read.t:.2f} s"
            body = read.body if isinstance(read.body, dict) else {}
            ok = read.status == 200 and body.get("code") == 100 and isinstance(body.get("message"), str)
            shown = f"{label}: HTTP {read.status} {str(body)[:120]}"
            ev.check("HEYGEN-STATUS-ENVELOPE", ok and read.data is not None, shown)
            v1 = type(body.get("code")) is int and "data" in body and "message" in body
            ev.check("HEYGEN-V1-ENVELOPE", v1, f"{label}: top-level keys {sorted(body)}")
            data = read.data or {}
            missing, extra = sorted(STATUS_KEYS - set(data)), sorted(set(data) - STATUS_KEYS)
            ev.check("HEYGEN-STATUS-KEYS", not missing, f"{label}: missing {missing}, extra {extra}")
            created = data.get("created_at")
            ev.check(
                "HEYGEN-STATUS-CREATED-AT-INT",
                created is None or (type(created) is int and abs(created - run.created_t) < CLOCK_SLACK_S),
                f"{label}: created_at {created!r} ({type(created).__name__}); created at {run.created_t:.0f}",
            )
            ev.check(
                "HEYGEN-STATUS-CALLBACK-ID",
                data.get("callback_id") == callback_id and data.get("id") == run.video_id,
                f"{label}: id {data.get('id')!r} callback_id {data.get('callback_id')!r}, sent {callback_id!r}",
            )


@pytest.mark.tier("core")
@pytest.mark.clause(
    "HEYGEN-STATUS-LIFECYCLE",
    "HEYGEN-STATUS-TERMINAL-STABLE",
    "HEYGEN-STATUS-NONTERMINAL-NULLS",
    "HEYGEN-STATUS-COMPLETED-FIELDS",
)
def test_lifecycle(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: the status reads of the shared videos, in order.
    Requirement: MUST move only forward through waiting, pending, processing to completed or failed and stay
    there; media fields MUST be null until completed and set once it is.
    """
    main = hg_jobs.main()
    for run in _runs(hg_jobs):
        datas = run.datas
        statuses = [d.get("status") for d in datas]
        ev.check(
            "HEYGEN-STATUS-LIFECYCLE",
            bool(statuses) and all(s in ORDER for s in statuses),
            f"{run.video_id} statuses seen: {_compress(statuses)}",
        )
        known = [d for d in datas if d.get("status") in ORDER]
        for a, b in itertools.pairwise(known):
            forward = ORDER[b["status"]] >= ORDER[a["status"]]
            ev.check("HEYGEN-STATUS-LIFECYCLE", forward, f"{a['status']} -> {b['status']}")
            if a["status"] in TERMINAL:
                same = (a["status"], a.get("error")) == (b["status"], b.get("error"))
                ev.check("HEYGEN-STATUS-TERMINAL-STABLE", same, f"{a['status']} -> {b['status']} ({b.get('error')})")
        ev.check(
            "HEYGEN-STATUS-TERMINAL-STABLE",
            sum(1 for s in statuses if s in TERMINAL) >= 2,
            f"{run.video_id}: {sum(1 for s in statuses if s in TERMINAL)} terminal reads",
        )
        for d in known:
            if d["status"] != "completed":
                set_keys = [k for k in MEDIA_KEYS if d.get(k) is not None]
                ev.check("HEYGEN-STATUS-NONTERMINAL-NULLS", not set_keys, f"{d['status']} with {set_keys} set")
    final = main.final or {}
    if final.get("status") != "completed":
        ev.check("HEYGEN-STATUS-COMPLETED-FIELDS", False, f"the valid video ended {final.get('status')}: {final}")
        return
    for d in (x for x in main.datas if x.get("status") == "completed"):
        urls = {k: d.get(k) for k in ("video_url", "thumbnail_url", "gif_url")}
        bad = [k for k, v in urls.items() if not (isinstance(v, str) and v.startswith(("http://", "https://")))]
        ok = not bad and is_number(d.get("duration")) and d["duration"] > 0 and d.get("error") is None
        ev.check(
            "HEYGEN-STATUS-COMPLETED-FIELDS",
            ok,
            f"completed: bad links {bad}, duration {d.get('duration')!r}, error {d.get('error')!r}",
        )


def _compress(statuses: list[Any]) -> list[Any]:
    return [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-STATUS-FAILED-ERROR", "HEYGEN-V1-ENVELOPE")
def test_failed_video(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: generate with an audio_url that cannot be fetched, polled to the end.
    Requirement: the failed status MUST still be HTTP 200 code 100 with data.error {code: int, message, detail}.
    """
    try:
        run = hg_jobs.failed()
    except AssertionError as exc:
        raise NotApplicable(f"the target refused the unfetchable audio_url up front: {exc}") from None
    statuses = [d.get("status") for d in run.datas]
    if run.status != "failed":
        ev.check("HEYGEN-STATUS-FAILED-ERROR", False, f"an unfetchable audio_url ended {_compress(statuses)}")
        return
    for read in run.reads:
        data = read.data or {}
        if data.get("status") != "failed":
            continue
        body = read.body if isinstance(read.body, dict) else {}
        error = data.get("error")
        ok = (
            read.status == 200
            and body.get("code") == 100
            and isinstance(error, dict)
            and {"code", "message", "detail"} <= set(error)
            and (error["code"] is None or type(error["code"]) is int)
            and all(error[k] is None or isinstance(error[k], str) for k in ("message", "detail"))
        )
        shown = f"failed read: HTTP {read.status} code {body.get('code')!r} error {error!r}"
        ev.check("HEYGEN-STATUS-FAILED-ERROR", ok, shown)
        ev.check("HEYGEN-V1-ENVELOPE", read.status == 200 and body.get("code") == 100, f"failed read {read.status}")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-URL-RESIGN", "HEYGEN-URL-SIGNED")
def test_signed_links(client: Client, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: two GET /v1/video_status.get of the completed video 1.1 s apart; the video_url with its
    Signature changed or removed.
    Requirement: links MUST carry Expires about 7 days ahead and be re-signed on each call; a changed link
    SHOULD be refused.
    """
    run = hg_jobs.main()
    if run.status != "completed":
        raise AssertionError(f"the video ended {run.status}")
    first = _read(client, run.video_id)
    time.sleep(1.1)
    second = _read(client, run.video_id)
    now = time.time()
    expires = []
    for d in (first, second):
        value = query_param(str(d.get("video_url")), "Expires")
        expires.append(int(value) if value and value.isdigit() else None)
    e1, e2 = expires
    ev.check(
        "HEYGEN-URL-RESIGN",
        e1 is not None and abs(e1 - (now + WEEK_S)) < CLOCK_SLACK_S + 86400,
        f"Expires {e1} is {((e1 or 0) - now) / 86400:.2f} days ahead (want about 7)",
    )
    ev.check(
        "HEYGEN-URL-RESIGN",
        e1 is not None and e2 is not None and e2 > e1,
        f"Expires {e1} then {e2} one second later",
    )
    url = str(second.get("video_url"))
    signature = query_param(url, "Signature")
    intact = client.get(url, auth=False, headers={"Range": "bytes=0-15"})
    ev.check("HEYGEN-URL-SIGNED", intact.status_code in (200, 206), f"intact link: {intact.status_code}")
    if not signature:
        ev.check("HEYGEN-URL-SIGNED", False, "the link has no Signature parameter")
        return
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for label, changed in (
        ("Signature changed", replace_param(url, "Signature", flipped)),
        ("Signature removed", replace_param(url, "Signature", None)),
    ):
        r = client.get(changed, auth=False, headers={"Range": "bytes=0-15"})
        ev.check("HEYGEN-URL-SIGNED", 400 <= r.status_code < 500, f"{label}: {r.status_code}")


def _read(client: Client, video_id: str | None) -> dict[str, Any]:
    r = client.get(STATUS_PATH, params={"video_id": video_id})
    problem = v1_ok_problem(r, message_str=True)
    assert problem is None, f"status read: {problem}"
    data = (json_of(r) or {}).get("data")
    assert isinstance(data, dict), f"status data {data!r}"
    return data


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-QUOTA-TEST-FREE")
def test_test_mode_is_free(hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: GET /v2/user/remaining_quota before generating the test: true video and after it completed.
    Requirement: SHOULD not decrease (test mode deducts no quota).
    """
    run = hg_jobs.main()
    before, after = run.quota_before, run.quota_after
    ok = run.status == "completed" and type(before) is int and type(after) is int and after >= before
    ev.check("HEYGEN-QUOTA-TEST-FREE", ok, f"remaining_quota {before!r} before, {after!r} after ({run.status})")
