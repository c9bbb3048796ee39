"""Boson's auth (Bearer) and error envelope `{"error": {"message", "type"}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.jobs import Job
from ...core.tenants import Tenant
from ...http.errors import ApiError
from ...http.headers import request_header
from ...http.responses import JSONResponse
from ...http.routing import Call, ClientProfile, Provider


class BosonProvider(Provider):
    name = "boson"
    spec_name = "boson"
    default_error_code = "invalid_request_error"
    worker_modules = ("mockserver.providers.boson.tasks",)
    client = ClientProfile(base_path="/v1", test_api_key="bai-test", auth_header="Authorization", auth_scheme="Bearer")
    job_defaults: ClassVar[Mapping[str, Any]] = {"model": "higgs-avatar", "size": "640x640"}
    id_prefix = "video_"

    def authenticate(self, call: Call) -> None:
        header = request_header(call.request.scope, b"authorization") or ""
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "invalid_api_key", "Missing API key: send 'Authorization: Bearer <BOSON_API_KEY>'.")
        if not self.key_accepted(call, key):
            raise ApiError(401, "invalid_api_key", "Invalid API key.")
        call.api_key = key

    def job_summary(self, tenant: Tenant, job: Job) -> dict[str, Any]:
        from .videos import STATUS

        return {"provider_status": STATUS[job.status]}

    def error_response(self, error: ApiError) -> Response:
        body = {"error": {"message": error.message, "type": error.code}}
        return JSONResponse(body, status_code=error.status, headers=error.headers)

    def claims(self, request: Request) -> bool:
        return "x-api-key" not in request.headers

    def routes(self) -> list[Route]:
        from . import speech, videos

        return [  # status polls first: Starlette tries routes in order, and polls are the hot path
            self.route("getVideo", videos.get_video, read_mostly=True),
            self.route("createVideo", videos.create_video),
            self.route("streamVideo", videos.stream_video),
            self.route("downloadVideoContent", videos.download_content),
            self.route("createSpeech", speech.create_speech),
            self.route("listVoices", speech.list_voices),
        ]
