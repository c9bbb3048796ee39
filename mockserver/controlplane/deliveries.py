"""GET /_emulator/webhooks: the tenant's webhook endpoints and every delivery, attempt by attempt."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..http.responses import JSONResponse
from .routes import ControlRoutes


def group_attempts(provider: str, attempts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One delivery per (target, event, video), with its attempts in order; oldest delivery first."""
    deliveries: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in attempts:
        key = (record["target"], record["event_type"], record["video_id"])
        delivery = deliveries.setdefault(key, {
            "provider": provider, "target": record["target"], "url": record["url"],
            "event_type": record["event_type"], "video_id": record["video_id"], "signed": record["signed"],
            "delivered": False, "attempts": [],
        })
        delivery["attempts"].append({name: record[name] for name in ("attempt", "at", "status_code", "error", "ok")})
        delivery["delivered"] = delivery["delivered"] or record["ok"]
    return list(deliveries.values())


async def list_webhooks(routes: ControlRoutes, request: Request) -> Response:
    """Endpoints (without their signing secrets) and deliveries of the tenant, for every provider."""
    endpoints: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    async with routes.session(request) as tenant:
        for provider in routes.router.providers:
            log = provider.webhook_log(tenant)
            if log is not None:
                endpoints += [{"provider": provider.name, **endpoint} for endpoint in log["endpoints"]]
                deliveries += group_attempts(provider.name, log["attempts"])
    return JSONResponse({"endpoints": endpoints, "deliveries": deliveries})
