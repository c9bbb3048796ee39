"""HeyGen webhooks: endpoint registration, signed event deliveries, callback_url, and retries.

The suite's receiver listens on 127.0.0.1; a remote target reaches it only through --callback-base-url, and
without it these clauses are NA.
"""

from __future__ import annotations

import itertools

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import avatar, body, json_of, silence_scene
from contracts.heygen_jobs import HgJobs, HgRun
from contracts.receiver import SILENT_HOLD_S, Hit, closed_port_url
from contracts.target import Target
from contracts.webhooks import ADD_PATH, DELETE_PATH, EVENTS, WebhookSession, event_of, signed

HOOK = "/ok/hook"
CALLBACK = "/ok/callback"
FLAKY = "/flaky/hook"
SLOW = "/slow/hook"
MIN_RETRY_PAUSE_S = 0.5
AFTER_SUCCESS_S = 1.0
"""How long the suite keeps listening after an accepted attempt, to see that no further attempt follows."""


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-WEBHOOK-ENDPOINT-ADD", "HEYGEN-WEBHOOK-DEAD-URL")
def test_endpoint_add(client: Client, target: Target, webhooks: WebhookSession, ev: Evidence) -> None:
    """Operation: POST /v1/webhook/endpoint.add for a receiver URL that answers OPTIONS, for one that holds
    OPTIONS unanswered for 3 s, and (loopback targets) for a port where nothing listens.
    Requirement: MUST probe the URL with OPTIONS before answering, return {endpoint_id, secret}, and refuse
    (4xx) a URL that does not answer OPTIONS within 1 s.
    """
    rec = webhooks.receiver()
    endpoint = webhooks.add(HOOK)
    probes = [h for h in rec.requests("OPTIONS", HOOK) if h.t <= endpoint.answered_t]
    ev.check(
        "HEYGEN-WEBHOOK-ENDPOINT-ADD",
        endpoint.problem is None,
        f"endpoint.add: {endpoint.problem or 'ok'} (endpoint_id {endpoint.endpoint_id!r}, secret given: "
        f"{bool(endpoint.secret)})",
    )
    ev.check(
        "HEYGEN-WEBHOOK-ENDPOINT-ADD",
        bool(probes),
        f"{len(probes)} OPTIONS probe(s) of {endpoint.url} arrived before endpoint.add answered",
    )
    dead = {f"OPTIONS held unanswered for {SILENT_HOLD_S:g} s": rec.url + "/silent/hook"}
    if target.loopback:
        dead["nothing listens on the port"] = closed_port_url()
    for label, url in dead.items():
        r = client.post(ADD_PATH, json={"url": url, "events": EVENTS})
        ok = 400 <= r.status_code < 500
        ev.check("HEYGEN-WEBHOOK-DEAD-URL", ok, f"{label}: endpoint.add answered {r.status_code}")
        data = (json_of(r) or {}).get("data") if r.status_code < 300 else None
        if isinstance(data, dict) and isinstance(data.get("endpoint_id"), str):  # accepted: do not leave it
            client.request("DELETE", DELETE_PATH, params={"endpoint_id": data["endpoint_id"]})


def _delivery_runs(hg_jobs: HgJobs, webhooks: WebhookSession) -> tuple[HgRun, HgRun]:
    """One video that completes (with callback_url) and one that fails, with the HOOK endpoint registered."""

    def make() -> tuple[HgRun, HgRun]:
        rec = webhooks.receiver()
        hg_jobs.target.require_budget(2)
        endpoint = webhooks.add(HOOK)
        if endpoint.endpoint_id is None:
            raise AssertionError(f"no endpoint to deliver to: {endpoint.problem}")
        catalog = hg_jobs.catalog
        ok = hg_jobs.start(body(catalog, silence_scene(catalog, 1.0), callback_id="conformance-hook-ok",
                                callback_url=rec.url + CALLBACK))  # fmt: skip
        bad_scene = {"character": avatar(catalog), "voice": {"type": "audio", "audio_url": rec.url + "/missing.mp3"}}
        bad = hg_jobs.start(body(catalog, bad_scene, callback_id="conformance-hook-fail"))
        hg_jobs.poll(ok)
        hg_jobs.poll(bad)
        rec.wait(
            lambda: bool(
                webhooks.deliveries(HOOK, ok.video_id)
                and webhooks.deliveries(HOOK, bad.video_id)
                and webhooks.deliveries(CALLBACK, ok.video_id)
            ),
            webhooks.wait_s,
        )
        return ok, bad

    return webhooks.runs.get("deliveries", make)


@pytest.mark.tier("core")
@pytest.mark.clause(
    "HEYGEN-WEBHOOK-SUCCESS-EVENT",
    "HEYGEN-WEBHOOK-FAIL-EVENT",
    "HEYGEN-WEBHOOK-SIGNATURE",
    "HEYGEN-WEBHOOK-CALLBACK-URL",
)
def test_deliveries(hg_jobs: HgJobs, webhooks: WebhookSession, ev: Evidence) -> None:
    """Operation: with an endpoint registered, generate a video that completes (with callback_url) and one that
    fails (its audio_url cannot be fetched); read what the receiver got.
    Requirement: MUST POST avatar_video.success {video_id, url, callback_id} and avatar_video.fail {video_id,
    msg, callback_id} to the endpoint, each signed (Signature: hex HMAC-SHA256(secret, raw body)), and the
    success event to callback_url too.
    """
    ok, bad = _delivery_runs(hg_jobs, webhooks)
    secret = webhooks.add(HOOK).secret or ""
    success = webhooks.deliveries(HOOK, ok.video_id)
    fail = webhooks.deliveries(HOOK, bad.video_id)
    _judge_events(ev, "HEYGEN-WEBHOOK-SUCCESS-EVENT", success, ok, "avatar_video.success", "url")
    _judge_events(ev, "HEYGEN-WEBHOOK-FAIL-EVENT", fail, bad, "avatar_video.fail", "msg")
    for hit in success + fail:
        shown = "matches" if signed(hit, secret) else f"{hit.headers.get('signature', '')[:16]!r}... does not match"
        ev.check("HEYGEN-WEBHOOK-SIGNATURE", signed(hit, secret),
                 f"{event_of(hit).get('event_type')}: Signature {shown} the HMAC of the body")  # fmt: skip
    if not success + fail:
        ev.check("HEYGEN-WEBHOOK-SIGNATURE", False, "no endpoint delivery to verify")
    callback = webhooks.deliveries(CALLBACK, ok.video_id)
    if not callback:
        ev.check("HEYGEN-WEBHOOK-CALLBACK-URL", False, f"callback_url received nothing for {ok.video_id}")
    for hit in callback:
        problem = _event_problem(hit, ok, "avatar_video.success", "url")
        ev.check("HEYGEN-WEBHOOK-CALLBACK-URL", problem is None, f"callback_url delivery: {problem or 'ok'}")


def _event_problem(hit: Hit, run: HgRun, event_type: str, text_field: str) -> str | None:
    """Why the delivery is not `event_type` for the run's video with a string `text_field` and its callback_id."""
    event = event_of(hit)
    data = event.get("event_data")
    if not isinstance(data, dict):
        return f"no event_data object in {hit.body[:160]!r}"
    wrong = []
    if event.get("event_type") != event_type:
        wrong.append(f"event_type {event.get('event_type')!r}")
    if data.get("video_id") != run.video_id:
        wrong.append(f"video_id {data.get('video_id')!r}")
    if not isinstance(data.get(text_field), str) or not data[text_field]:
        wrong.append(f"{text_field} {data.get(text_field)!r}")
    if data.get("callback_id") != run.request.get("callback_id"):
        wrong.append(f"callback_id {data.get('callback_id')!r}, sent {run.request.get('callback_id')!r}")
    return f"{', '.join(wrong)} in {hit.body[:160]!r}" if wrong else None


def _judge_events(ev: Evidence, clause: str, hits: list[Hit], run: HgRun, event_type: str, text_field: str) -> None:
    if not hits:
        ev.check(clause, False, f"no delivery for {run.video_id} (it ended {run.status})")
    for hit in hits:
        problem = _event_problem(hit, run, event_type, text_field)
        ev.check(clause, problem is None, problem or f"{event_type} for {run.video_id}")


@pytest.mark.tier("full")
@pytest.mark.clause("HEYGEN-WEBHOOK-RETRY", "HEYGEN-WEBHOOK-SIGNATURE")
def test_retries(hg_jobs: HgJobs, webhooks: WebhookSession, ev: Evidence) -> None:
    """Operation: register an endpoint that answers the first attempt of each event 503 and one that holds it
    unanswered until the sender gives up; generate one video; watch the attempts.
    Requirement: SHOULD attempt again after a pause (at least 0.5 s) and stop once an attempt is accepted; every
    attempt MUST be signed.
    """
    rec = webhooks.receiver()
    hg_jobs.target.require_budget(1)
    endpoints = {path: webhooks.add(path) for path in (FLAKY, SLOW)}
    try:
        catalog = hg_jobs.catalog
        run = hg_jobs.start(body(catalog, silence_scene(catalog, 1.0), callback_id="conformance-hook-retry"))
        hg_jobs.poll(run)

        def settled(path: str) -> bool:
            hits = webhooks.deliveries(path, run.video_id)
            return bool(hits) and _accepted(hits[-1])

        rec.wait(lambda: all(settled(p) for p in endpoints), webhooks.wait_s)
        rec.wait(lambda: False, AFTER_SUCCESS_S)  # any attempt after the accepted one would show up now
    finally:
        for path in endpoints:
            webhooks.remove(path)
    for path, endpoint in endpoints.items():
        hits = webhooks.deliveries(path, run.video_id)
        _judge_attempts(ev, path, hits)
        for hit in hits:
            ok = endpoint.secret is not None and signed(hit, endpoint.secret)
            ev.check("HEYGEN-WEBHOOK-SIGNATURE", ok, f"{path} attempt at {hit.t - hits[0].t:.1f} s signed: {ok}")


def _judge_attempts(ev: Evidence, path: str, hits: list[Hit]) -> None:
    """Attempts after a failed one (503 or given up), paused, and none after the first accepted attempt."""
    shown = [f"{h.t - hits[0].t:.1f}s:{h.status if h.status is not None else 'gave up'}" for h in hits] if hits else []
    if not hits:
        ev.check("HEYGEN-WEBHOOK-RETRY", False, f"{path}: no delivery at all")
        return
    accepted = [i for i, h in enumerate(hits) if _accepted(h)]
    ev.check(
        "HEYGEN-WEBHOOK-RETRY",
        bool(accepted) and accepted[0] > 0,
        f"{path}: attempts {shown} (the first is refused; a later one must arrive)",
    )
    if accepted:
        extra = hits[accepted[0] + 1 :]
        ev.check("HEYGEN-WEBHOOK-RETRY", not extra, f"{path}: {len(extra)} attempt(s) after the accepted one: {shown}")
    for a, b in itertools.pairwise(hits):
        pause = b.t - (a.t + a.held_s)
        shown_pause = f"{path}: next attempt {pause:.2f} s after the last ended"
        ev.check("HEYGEN-WEBHOOK-RETRY", pause >= MIN_RETRY_PAUSE_S, shown_pause)


def _accepted(hit: Hit) -> bool:
    return hit.status is not None and 200 <= hit.status < 300
