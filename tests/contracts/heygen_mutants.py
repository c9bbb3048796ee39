"""Deliberately broken HeyGen servers: the emulator wrapped in ASGI middleware that breaks one clause each."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.contracts.asgi import (
    App,
    Buffered,
    RequestRewrite,
    Scope,
    change_json_request,
    json_rewrite,
    path_is,
    rewrite_json_body,
)
from tests.contracts.mutants import Mutant

STATUS = r"/v1/video_status.get"
MEDIA_KEYS = ("video_url", "thumbnail_url", "gif_url", "duration", "caption_url", "video_url_caption")


def _status_data(change: Callable[[dict[str, Any]], None]) -> Callable[[App], App]:
    """Apply `change` to data of every 200 video_status.get answer."""

    def wrap(app: App) -> App:
        def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
            if status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict):
                change(body["data"])
            return status, body

        return Buffered(app, path_is(STATUS, "GET"), json_rewrite(fn))

    return wrap


def _drop_gif_url(data: dict[str, Any]) -> None:
    data.pop("gif_url", None)


def _created_at_string(data: dict[str, Any]) -> None:
    data["created_at"] = str(data.get("created_at"))


def _status_backwards(app: App) -> App:
    """The first two reads of each video say processing, then pending (a step back)."""
    reads: dict[str, int] = {}

    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if status == 200 and isinstance(data, dict):
            vid = str(data.get("id"))
            reads[vid] = reads.get(vid, 0) + 1
            if reads[vid] <= 2:
                data.update(dict.fromkeys(MEDIA_KEYS), error=None)
                data["status"] = "processing" if reads[vid] == 1 else "pending"
        return status, body

    return Buffered(app, path_is(STATUS, "GET"), json_rewrite(fn))


def _failed_is_500(app: App) -> App:
    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("status") == "failed":
            return 500, body
        return status, body

    return Buffered(app, path_is(STATUS, "GET"), json_rewrite(fn))


def _v1_errors_on_v2(app: App) -> App:
    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        if status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
            return status, {"code": 400175, "data": None, "message": body["error"].get("message")}
        return status, body

    return Buffered(app, path_is(r"/v2/.*"), json_rewrite(fn))


def _wrong_secret(app: App) -> App:
    """endpoint.add hands out a secret other than the one deliveries are signed with."""

    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if status == 200 and isinstance(data, dict) and "secret" in data:
            data["secret"] = "0" * 32
        return status, body

    return Buffered(app, path_is(r"/v1/webhook/endpoint\.add", "POST"), json_rewrite(fn))


def _tampered_link_served(app: App) -> App:
    def rw(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        if status == 403:
            return 200, [(b"content-type", b"video/mp4")], b"\x00\x00\x00\x08free"
        return status, headers, body

    return Buffered(app, path_is(r"/heygen/files/.*", "GET"), rw)


def _change_generate(change: Callable[[dict[str, Any]], None]) -> Callable[[App], App]:
    """Rewrite the JSON body of POST /v2/video/generate before the emulator reads it."""
    return change_json_request(("/v2/video/generate",), change)


def _wrong_dimension(data: dict[str, Any]) -> None:
    if data.get("dimension") == {"width": 256, "height": 144}:
        data["dimension"] = {"width": 320, "height": 180}


def _test_mode_ignored(data: dict[str, Any]) -> None:
    if data.get("test") is True:
        data["test"] = False


def _no_secret(app: App) -> App:
    """endpoint.add answers without the secret (deliveries cannot be verified)."""

    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if status == 200 and isinstance(data, dict):
            data.pop("secret", None)
        return status, body

    return Buffered(app, path_is(r"/v1/webhook/endpoint\.add", "POST"), json_rewrite(fn))


def _dead_url_accepted(app: App) -> App:
    """A URL that failed the OPTIONS check is registered anyway (a made-up endpoint, never delivered to)."""

    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        if status == 400 and "OPTIONS" in json.dumps(body):
            endpoint = {"endpoint_id": "0" * 32, "url": "", "secret": "1" * 32, "status": "enabled",
                        "events": None, "username": "", "created_at": 0}  # fmt: skip
            return 200, {"code": 100, "data": endpoint, "msg": None, "message": None}
        return status, body

    return Buffered(app, path_is(r"/v1/webhook/endpoint\.add", "POST"), json_rewrite(fn))


def _drop_callback_url(data: dict[str, Any]) -> None:
    data.pop("callback_url", None)


def _reverse_scenes(data: dict[str, Any]) -> None:
    scenes = data.get("video_inputs")
    if isinstance(scenes, list) and len(scenes) == 3:
        scenes.reverse()


def _longer_first_scene(data: dict[str, Any]) -> None:
    scenes = data.get("video_inputs")
    if isinstance(scenes, list) and len(scenes) == 3:
        voice = scenes[0].get("voice") if isinstance(scenes[0], dict) else None
        if isinstance(voice, dict) and voice.get("type") == "silence":
            voice["duration"] = float(voice.get("duration") or 1.0) + 0.5


def _drop_text(data: dict[str, Any]) -> None:
    for scene in data.get("video_inputs") or []:
        if isinstance(scene, dict):
            scene.pop("text", None)


def _queued_fail(app: App) -> App:
    """A video that has to wait for a slot fails (and stays failed) instead of queueing."""
    waited: set[str] = set()

    def fn(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if status == 200 and isinstance(data, dict):
            vid = str(data.get("id"))
            if data.get("status") in ("pending", "waiting"):
                waited.add(vid)
            if vid in waited:
                error = {"code": 400664, "message": "Video limit exceeded", "detail": "too many videos"}
                data.update(dict.fromkeys(MEDIA_KEYS), status="failed", error=error)
        return status, body

    return Buffered(app, path_is(STATUS, "GET"), json_rewrite(fn))


def _queued_reads_processing(data: dict[str, Any]) -> None:
    """Videos waiting for a slot are reported as processing (the reads no longer show the queue)."""
    if data.get("status") in ("pending", "waiting"):
        data["status"] = "processing"


def _clock_frozen(app: App) -> App:
    """The clock never moves (so links never expire)."""

    def rw(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if scope["method"] == "POST" and scope["path"] == "/_emulator/clock":
            return rewrite_json_body(scope, body, lambda data: data.pop("advance", None))
        return scope, body

    return RequestRewrite(app, rw)


def _noop(app: App) -> App:
    return app


HEYGEN_MUTANTS: list[Mutant] = [
    Mutant("hg-status-gif-url-missing", "HEYGEN-STATUS-KEYS", _status_data(_drop_gif_url), "heygen"),
    Mutant("hg-created-at-string", "HEYGEN-STATUS-CREATED-AT-INT", _status_data(_created_at_string), "heygen"),
    Mutant("hg-status-goes-backwards", "HEYGEN-STATUS-LIFECYCLE", _status_backwards, "heygen"),
    Mutant("hg-failed-is-http-500", "HEYGEN-STATUS-FAILED-ERROR", _failed_is_500, "heygen"),
    Mutant("hg-v1-error-on-v2-route", "HEYGEN-V2-ERROR-ENVELOPE", _v1_errors_on_v2, "heygen"),
    Mutant("hg-webhook-signature-wrong", "HEYGEN-WEBHOOK-SIGNATURE", _wrong_secret, "heygen"),
    Mutant("hg-tampered-link-served", "HEYGEN-URL-SIGNED", _tampered_link_served, "heygen"),
    Mutant("hg-wrong-dimension", "HEYGEN-MEDIA-SIZE", _change_generate(_wrong_dimension), "heygen"),
    Mutant("hg-test-mode-charged", "HEYGEN-QUOTA-TEST-FREE", _change_generate(_test_mode_ignored), "heygen"),
    Mutant("hg-endpoint-without-secret", "HEYGEN-WEBHOOK-ENDPOINT-ADD", _no_secret, "heygen"),
    Mutant("hg-dead-url-accepted", "HEYGEN-WEBHOOK-DEAD-URL", _dead_url_accepted, "heygen"),
    Mutant("hg-callback-url-ignored", "HEYGEN-WEBHOOK-CALLBACK-URL", _change_generate(_drop_callback_url), "heygen"),
    Mutant("hg-no-webhook-retry", "HEYGEN-WEBHOOK-RETRY", _noop, "heygen",
           {"heygen_webhook_backoff": ()}, tier="full"),
    Mutant("hg-scenes-reversed", "HEYGEN-COMPOSE-BACKGROUNDS", _change_generate(_reverse_scenes), "heygen",
           tier="full"),
    Mutant("hg-first-scene-longer", "HEYGEN-COMPOSE-SCENE-TIMING", _change_generate(_longer_first_scene), "heygen",
           tier="full"),
    Mutant("hg-text-ignored", "HEYGEN-COMPOSE-TEXT", _change_generate(_drop_text), "heygen", tier="full"),
    Mutant("hg-queued-videos-fail", "HEYGEN-QUEUE-BURST", _queued_fail, "heygen", tier="full"),
    Mutant("hg-queue-hidden", "HEYGEN-QUEUE-CONCURRENCY", _status_data(_queued_reads_processing), "heygen",
           tier="full"),
    Mutant("hg-links-never-expire", "HEYGEN-URL-EXPIRY", _clock_frozen, "heygen", tier="full"),
]
