"""The emulator as one ASGI app: every provider's routes, the specs, and the control plane.

This module is the composition root: the one place in `http/` that imports the providers and
the control plane; they in turn import only the lower layers (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..controlplane import ControlPlane
from ..core.emulator import Emulator
from ..core.settings import Settings, settings_from_json
from ..core.state import StateUnavailable
from ..providers.boson import BosonProvider
from ..providers.heygen import HeyGenProvider
from .errors import ApiError
from .middleware import RequestIdMiddleware
from .replay import ReplayMiddleware
from .routing import Router, state_unavailable
from .spec import Spec

SETTINGS_ENV = "AVATAR_EMULATOR_SETTINGS"


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


async def render_here(emulator: Emulator) -> None:
    """`serve --state redis:// --render-workers N`: this front-end also takes render orders."""
    from ..core.state.render_service import RenderService

    assert emulator.settings.state is not None
    await RenderService(emulator.settings.state, emulator.workers.render).run()


def app_from_environment() -> Starlette:
    """The app of one `serve --workers N` process: the settings come in AVATAR_EMULATOR_SETTINGS."""
    from .serving import tune_server_process

    app = create_app(settings_from_json(os.environ[SETTINGS_ENV]))
    tune_server_process()
    return app


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the emulator app. Serve it with uvicorn, or call it in-process with httpx.ASGITransport."""
    settings = settings or Settings()
    providers = [BosonProvider(), HeyGenProvider()]
    emulator = Emulator(settings, worker_modules=[m for provider in providers for m in provider.worker_modules])
    router = Router(emulator, providers)
    emulator.restore({provider.name: provider.restore_job for provider in router.providers})
    control = ControlPlane(emulator, router) if settings.control else None
    # Provider routes first: Starlette tries routes in order, and status polls are the hot path.
    routes: list[BaseRoute] = [*router.routes(), *_spec_routes(), *(control.routes() if control else [])]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(emulator.tick())
        warming = asyncio.create_task(
            asyncio.to_thread(emulator.workers.prewarm, everything=settings.start_all_workers))
        rendering = asyncio.create_task(render_here(emulator)) if settings.state and settings.render_workers else None
        try:
            yield
        finally:
            for task in (ticker, warming, rendering):
                if task is not None:
                    task.cancel()
            await emulator.tenants.aclose()
            emulator.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            error = ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}.")
        else:
            error = ApiError(404, "not_found", f"No route {request.method} {request.url.path} on this emulator.")
        return router.provider_for(request).error_response_for(request, error)

    async def server_error(request: Request, exc: Exception) -> Response:
        error = ApiError(500, "internal_error", f"The emulator failed: {type(exc).__name__}: {exc}")
        return router.provider_for(request).error_response_for(request, error)

    async def unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StateUnavailable)
        return router.provider_for(request).error_response_for(request, state_unavailable(exc))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, 500: server_error, StateUnavailable: unavailable},
    )
    app.state.emulator = emulator
    app.state.router = router
    app.add_middleware(RequestIdMiddleware)
    if control is not None:
        control.install(app)
    if settings.replay_dir is not None:  # outermost: recorded answers skip the journal and the request id
        app.add_middleware(ReplayMiddleware, directory=settings.replay_dir, miss=settings.replay_miss,
                           speed=settings.replay_speed)
    return app
