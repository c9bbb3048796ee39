"""Webhooks: endpoint management (`/v1/webhook/*`) and event delivery.

When a video ends, `{"event_type": "avatar_video.success", "event_data": {"video_id", "url",
"callback_id"}}` (or `avatar_video.fail` with `msg`) is POSTed to the video's `callback_url` and to
every registered endpoint subscribed to the event. Each POST to an endpoint carries `Signature`:
the hex HMAC-SHA256 of the raw body keyed with the endpoint's secret. Failed attempts are retried
on the tenant's clock after the delays in `Settings.heygen_webhook_backoff` (default
1, 5, 25, 125 s); every attempt is recorded in the tenant's `HeyGenState.deliveries`. Delivery
runs in asyncio tasks and never blocks a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import httpx
from starlette.responses import Response

from ...http.errors import ApiError
from ...http.fetch import FetchError, check_url
from ...http.routing import Call
from . import envelopes
from .inputs import read_json_body
from .signing import SIGNER, Signer
from .state import Delivery, Endpoint, Video, state_of

if TYPE_CHECKING:
    from ...core.emulator import Emulator
    from ...core.tenants import Tenant

EVENTS = [
    "avatar_video.success", "avatar_video.fail", "avatar_video_gif.success", "avatar_video_gif.fail",
    "avatar_video_caption.success", "avatar_video_caption.fail", "video_translate.success",
    "video_translate.fail", "personalized_video",
]  # fmt: skip
OPTIONS_TIMEOUT_S = 1.0
POST_TIMEOUT_S = 5.0
SIGNATURE_HEADER = "Signature"


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- management


async def list_events(call: Call) -> Response:
    return envelopes.v1(EVENTS, message=None, msg=True)


async def add_endpoint(call: Call) -> Response:
    body = await read_json_body(call)
    url = str(body["url"])
    try:
        check_url(url, call.emulator.settings.fetch)
    except FetchError as exc:
        raise ApiError(400, "invalid_parameter", f"Invalid webhook url: {exc.reason}.", field="url") from None
    try:
        async with httpx.AsyncClient(timeout=OPTIONS_TIMEOUT_S, follow_redirects=False) as client:
            answer = await client.options(url)
    except httpx.HTTPError as exc:
        raise ApiError(400, "webhook_endpoint_unreachable",
                       f"The webhook url did not answer an OPTIONS request within 1 second ({type(exc).__name__}).",
                       field="url") from None  # fmt: skip
    if not 200 <= answer.status_code < 300:
        raise ApiError(400, "webhook_endpoint_unreachable",
                       f"The webhook url answered OPTIONS with HTTP {answer.status_code}; it must answer 2xx.",
                       field="url")  # fmt: skip
    events = body.get("events") or None
    tenant = call.tenant
    endpoint = Endpoint(tenant.new_id("", 32), url, tenant.new_id("", 32), list(events) if events else None,
                        int(tenant.clock.now()))  # fmt: skip
    state_of(tenant).endpoints[endpoint.endpoint_id] = endpoint
    return envelopes.v1(endpoint.json(), message=None, msg=True)


async def list_endpoints(call: Call) -> Response:
    return envelopes.v1([e.json() for e in state_of(call.tenant).endpoints.values()], message=None, msg=True)


async def delete_endpoint(call: Call) -> Response:
    endpoint_id = call.request.path_params.get("endpoint_id") or call.request.query_params.get("endpoint_id")
    if not endpoint_id:
        raise ApiError(400, "missing_params", "'endpoint_id' is required.", field="endpoint_id")
    if state_of(call.tenant).endpoints.pop(endpoint_id, None) is None:
        raise ApiError(404, "endpoint_not_found", f"Webhook endpoint {endpoint_id} not found.", field="endpoint_id")
    return envelopes.v1(None, message=None, msg=True)


# ----------------------------------------------------------------------------- delivery


def event_for(video: Video, signer: Signer, now: float) -> tuple[str, dict[str, Any]]:
    if video.status == "completed":
        url = signer.url(video.base_url, video.job.tenant, video.id, "video.mp4", now)
        return "avatar_video.success", {"video_id": video.id, "url": url, "callback_id": video.callback_id}
    error = video.error()
    msg = error.detail if error is not None else "the render failed"
    return "avatar_video.fail", {"video_id": video.id, "msg": msg, "callback_id": video.callback_id}


def video_finished(emulator: Emulator, tenant: Tenant, video: Video) -> None:
    """Send the events of a video that just ended, in background tasks."""
    signer = SIGNER
    state = state_of(tenant)
    now = tenant.clock.now()
    event_type, data = event_for(video, signer, now)
    body = json.dumps({"event_type": event_type, "event_data": data}, separators=(",", ":")).encode()
    if video.callback_url:
        emulator.spawn(
            _deliver(emulator, tenant.name, "callback_url", video.callback_url, None, event_type, video.id, body)
        )
    for endpoint in list(state.endpoints.values()):
        if endpoint.wants(event_type):
            emulator.spawn(_deliver(emulator, tenant.name, endpoint.endpoint_id, endpoint.url, endpoint.secret,
                                    event_type, video.id, body))  # fmt: skip
    if video.status == "completed":
        gif_type = "avatar_video_gif.success"
        gif = {"video_id": video.id, "url": signer.url(video.base_url, tenant.name, video.id, "preview.gif", now),
               "callback_id": video.callback_id}  # fmt: skip
        gif_body = json.dumps({"event_type": gif_type, "event_data": gif}, separators=(",", ":")).encode()
        for endpoint in list(state.endpoints.values()):
            if endpoint.events and gif_type in endpoint.events:
                emulator.spawn(_deliver(emulator, tenant.name, endpoint.endpoint_id, endpoint.url, endpoint.secret,
                                        gif_type, video.id, gif_body))  # fmt: skip


async def _record(emulator: Emulator, tenant_name: str, target: str, url: str, event_type: str, video_id: str,
                  attempt: int, status: int | None, error: str | None, signed: bool) -> float | None:  # fmt: skip
    """Record one attempt in the tenant's deliveries; the tenant's clock then (None: the tenant is gone)."""
    if not await emulator.tenants.exists(tenant_name):
        return None
    async with emulator.tenants.session(tenant_name) as tenant:
        now = tenant.clock.now()
        state_of(tenant).deliveries.append(
            Delivery(target, url, event_type, video_id, attempt, now, status, error, signed))
        return now


async def _deliver(emulator: Emulator, tenant_name: str, target: str, url: str, secret: str | None,
                   event_type: str, video_id: str, body: bytes) -> None:  # fmt: skip
    """POST one event, retrying failures after the backoff delays (on the tenant's clock); every
    attempt is recorded. Runs outside any session: a slow receiver holds nothing up."""
    headers = {"Content-Type": "application/json", "User-Agent": "avatar-emulator-heygen-webhooks/1"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    delays = emulator.settings.heygen_webhook_backoff
    signed = secret is not None
    async with httpx.AsyncClient(timeout=POST_TIMEOUT_S, follow_redirects=False) as client:
        for attempt in range(1, len(delays) + 2):
            status: int | None = None
            error: str | None = None
            try:
                check_url(url, emulator.settings.fetch)
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except FetchError as exc:
                await _record(emulator, tenant_name, target, url, event_type, video_id, attempt, None, exc.reason,
                              signed)  # fmt: skip
                return
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            now = await _record(emulator, tenant_name, target, url, event_type, video_id, attempt, status, error,
                                signed)  # fmt: skip
            ok = status is not None and 200 <= status < 300
            if now is None or ok or attempt > len(delays):
                return
            await emulator.tenants.sleep_until(tenant_name, now + delays[attempt - 1])
