"""GET /_emulator/webhooks: the tenant's HeyGen webhook endpoints and every delivery, attempt by attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..heygen.state import Delivery, state_of

if TYPE_CHECKING:
    from .routes import ControlPlane


def group_attempts(records: list[Delivery]) -> list[dict[str, Any]]:
    """One delivery per (target, event, video), with its attempts in order; oldest delivery first."""
    deliveries: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        key = (record.target, record.event_type, record.video_id)
        delivery = deliveries.setdefault(key, {
            "provider": "heygen", "target": record.target, "url": record.url, "event_type": record.event_type,
            "video_id": record.video_id, "signed": record.signed, "delivered": False, "attempts": [],
        })
        delivery["attempts"].append({"attempt": record.attempt, "at": record.at, "status_code": record.status_code,
                                     "error": record.error, "ok": record.ok})
        delivery["delivered"] = delivery["delivered"] or record.ok
    return list(deliveries.values())


async def list_webhooks(plane: ControlPlane, request: Request) -> Response:
    """Endpoints (without their signing secrets) and deliveries of the tenant."""
    state = state_of(plane.tenant(request))
    endpoints = [{"endpoint_id": e.endpoint_id, "url": e.url, "events": e.events, "status": e.status,
                  "created_at": e.created_at} for e in state.endpoints.values()]
    return JSONResponse({"endpoints": endpoints, "deliveries": group_attempts(list(state.deliveries))})
