"""The emulator as one ASGI app: every provider's routes, the specs, and the shared machinery."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .boson import BosonProvider
from .control_access import ControlAccessMiddleware
from .controlplane import JournalMiddleware, control_routes
from .errors import ApiError
from .fetch import FetchPolicy
from .heygen import HeyGenProvider
from .http.replay import ReplayMiddleware
from .persistence import Persistence
from .retention import Retention
from .routing import Provider
from .settings import Settings
from .spec import Spec
from .storage import MediaStore
from .tenants import TENANT_HEADER, Tenant, TenantRegistry

TICK_SECONDS = 0.05


@dataclass
class Failure:
    tenant: str
    where: str
    traceback: str


class Emulator:
    """State shared by every request: settings, tenants, media store, providers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = MediaStore(settings.data_dir)
        self.tenants = TenantRegistry(settings, self.store)
        self.providers: list[Provider] = [BosonProvider(), HeyGenProvider()]
        self.failures: list[Failure] = []
        self.fetch_policy: FetchPolicy = settings.extra.get("fetch", "local")  # type: ignore[assignment]
        self.persistence = Persistence(settings.data_dir) if settings.data_dir is not None else None
        self.restored = self.persistence.attach(self.tenants) if self.persistence is not None else 0
        self.retention = Retention(
            self.tenants, retain_seconds=settings.retain_seconds, max_bytes=settings.max_media_bytes
        )

    def tenant_for(self, request: Request) -> Tenant:
        return self.tenants.get(request.headers.get(TENANT_HEADER))

    def record_failure(self, request: Request, traceback: str) -> None:
        tenant = request.headers.get(TENANT_HEADER) or "default"
        self.failures.append(Failure(tenant, f"{request.method} {request.url.path}", traceback))

    def provider_for(self, request: Request) -> Provider:
        for provider in self.providers:
            if provider.claims(request):
                return provider
        return self.providers[0]

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.tenants.refresh_all()
            self.retention.maybe_sweep()

    def close(self) -> None:
        self.tenants.close()
        self.retention.unlink_due(force=True)
        self.store.close()
        if self.persistence is not None:
            self.persistence.close()


class RequestIdMiddleware:
    """Give every response an `X-Request-Id` (echoing the client's if it sent one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(12)
        for name, value in scope["headers"]:
            if name == b"x-request-id" and 0 < len(value) <= 128:
                request_id = value.decode("latin-1")
        scope["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _spec_routes() -> list[BaseRoute]:
    async def serve_spec(request: Request) -> Response:
        name, fmt = request.path_params["name"], request.path_params["fmt"]
        try:
            spec = Spec.load(name)
        except FileNotFoundError:
            return PlainTextResponse(f"no spec named {name!r}", status_code=404)
        if fmt == "json":
            return PlainTextResponse(spec.text("json"), media_type="application/json")
        if fmt == "yaml":
            return PlainTextResponse(spec.text("yaml"), media_type="application/yaml")
        return PlainTextResponse("use .yaml or .json", status_code=404)

    return [Route("/openapi/{name:str}.{fmt:str}", serve_spec, methods=["GET"])]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the emulator app. Serve it with uvicorn, or call it in-process with httpx.ASGITransport."""
    settings = settings or Settings()
    emulator = Emulator(settings)
    # Provider routes first: Starlette tries routes in order, and status polls are the hot path.
    routes: list[BaseRoute] = []
    for provider in emulator.providers:
        routes.extend(provider.routes())
    routes += [*_spec_routes(), *control_routes(emulator)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(emulator.tick())
        try:
            yield
        finally:
            ticker.cancel()
            emulator.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        provider = emulator.provider_for(request)
        status = getattr(exc, "status_code", 404)
        if status == 405:
            error = ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}.")
        else:
            error = ApiError(404, "not_found", f"No route {request.method} {request.url.path} on this emulator.")
        return provider.error_response(error)

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": {"message": f"The emulator failed: {exc}", "type": "internal_error"}}, 500)

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )
    app.state.emulator = emulator
    app.add_middleware(RequestIdMiddleware)
    if settings.control:
        app.add_middleware(JournalMiddleware, emulator=emulator)
        if settings.control_token:
            settings.extra["control_remote"] = True  # the access middleware checks the token first
        app.add_middleware(ControlAccessMiddleware, token=settings.control_token,
                           any_host=bool(settings.extra.get("control_remote")))
    if settings.replay_dir is not None:  # outermost: recorded answers skip the journal and the request id
        app.add_middleware(ReplayMiddleware, directory=settings.replay_dir, miss=settings.replay_miss,
                           speed=settings.replay_speed)
    return app
