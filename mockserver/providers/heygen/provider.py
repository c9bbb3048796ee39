"""HeyGen's auth (`X-Api-Key`, or an OAuth `Authorization: Bearer` token) and its envelopes.

Every route is bound to an operation of openapi/heygen.yaml; errors on `/v1/*` operations are
rendered in the v1 envelope, all others in the v2 envelope (see `envelopes`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.jobs import Job
from ...core.tenants import Tenant
from ...http.errors import ApiError
from ...http.headers import request_header
from ...http.routing import Call, ClientProfile, Handler, Provider, TenantOf
from . import envelopes
from .lifecycle import on_transition, restore_video
from .render import settle
from .state import STATUS, state_of, tenant_name


class HeyGenProvider(Provider):
    name = "heygen"
    spec_name = "heygen"
    default_error_code = "invalid_parameter"
    video_file = "video.mp4"
    worker_modules = ("mockserver.providers.heygen.tasks",)
    client = ClientProfile(base_path="", test_api_key="hg-test", auth_header="X-Api-Key")

    def authenticate(self, call: Call) -> None:
        scope = call.request.scope
        key = (request_header(scope, b"x-api-key") or "").strip()
        if not key:
            scheme, _, token = (request_header(scope, b"authorization") or "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else ""
        if not key:
            raise ApiError(401, "unauthorized", "Unauthorized: send your API key in the 'X-Api-Key' header.")
        if not self.key_accepted(call, key):
            raise ApiError(401, "unauthorized", "Invalid credentials provided: the API key is not valid.")
        call.api_key = key

    def restore_job(self, tenant: Tenant, job: Job) -> None:
        restore_video(tenant, job)

    def job_transition(self, tenant: Tenant, job: Job) -> None:
        assert self.router is not None
        on_transition(self.router.emulator, tenant, job)

    def settle_render(self, tenant: Tenant, job: Job) -> None:
        settle(tenant, job)

    def job_summary(self, tenant: Tenant, job: Job) -> dict[str, Any]:
        video = state_of(tenant).videos.get(job.id)
        if video is None:
            return {"provider_status": STATUS[job.status], "title": None}
        return {"provider_status": video.status, "title": video.title}

    def webhook_log(self, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
        state = state_of(tenant)
        endpoints = [{"endpoint_id": e.endpoint_id, "url": e.url, "events": e.events, "status": e.status,
                      "created_at": e.created_at} for e in state.endpoints.values()]
        attempts = [{"target": d.target, "url": d.url, "event_type": d.event_type, "video_id": d.video_id,
                     "attempt": d.attempt, "at": d.at, "status_code": d.status_code, "error": d.error,
                     "signed": d.signed, "ok": d.ok} for d in state.deliveries]
        return {"endpoints": endpoints, "attempts": attempts}

    def error_response(self, error: ApiError) -> Response:
        return envelopes.error_response(error)

    def error_response_for(self, request: Request, error: ApiError) -> Response:
        token = envelopes.FAMILY.set(envelopes.family_of(request.url.path))
        try:
            return envelopes.error_response(error)
        finally:
            envelopes.FAMILY.reset(token)

    def claims(self, request: Request) -> bool:
        return "x-api-key" in request.headers

    def route(self, op_id: str, handler: Handler, *, authenticated: bool = True, all_jobs: bool = False,
              tenant_of_request: TenantOf | None = None, read_mostly: bool = False) -> Route:
        family = envelopes.family_of(self.spec.operations[op_id].path)

        async def bound(call: Call) -> Response:
            envelopes.FAMILY.set(family)
            if authenticated:
                self.authenticate(call)
            return await handler(call)

        return super().route(op_id, bound, authenticated=False, all_jobs=all_jobs, tenant_of_request=tenant_of_request,
                             read_mostly=read_mostly)

    def routes(self) -> list[Route]:
        from . import assets, catalog, generate, legacy, status, webhooks

        return [
            self.route("getVideoStatus", status.video_status, read_mostly=True),  # the hot path first
            self.route("generateVideo", generate.generate_v2),
            self.route("generateVideoV1", legacy.generate_v1),
            self.route("listVideos", status.list_videos, all_jobs=True),
            self.route("deleteVideo", status.delete_video),
            self.route("listAvatars", catalog.list_avatars),
            self.route("getAvatarDetails", catalog.avatar_details),
            self.route("listVoices", catalog.list_voices),
            self.route("getRemainingQuota", remaining_quota),
            self.route("uploadAsset", assets.upload_asset),
            self.route("listWebhookEvents", webhooks.list_events),
            self.route("addWebhookEndpoint", webhooks.add_endpoint),
            self.route("listWebhookEndpoints", webhooks.list_endpoints),
            self.route("deleteWebhookEndpoint", webhooks.delete_endpoint),
            self.route("deleteWebhookEndpointByPath", webhooks.delete_endpoint),
            self.route("getVideoFile", status.media_file, authenticated=False, tenant_of_request=tenant_in_path),
            self.route("getAssetFile", assets.asset_file, authenticated=False, tenant_of_request=tenant_in_path),
            self.route("getCatalogFile", catalog.catalog_file, authenticated=False),
        ]


async def remaining_quota(call: Call) -> Response:
    quota = state_of(call.tenant).remaining_quota
    details = {"api": quota, "streaming_avatar": 0, "streaming_avatar_instance_quota": 0, "seat": 1}
    return envelopes.v2({"remaining_quota": quota, "details": details})


def tenant_in_path(request: Request) -> str | None:
    """The tenant a signed media link names in its path (links are fetched without headers)."""
    return tenant_name(request.path_params["tenant"])
