"""Providers and their routes: each route is bound to an OpenAPI operation and to its
provider's auth and error envelope, so no handler ever leaks a bare 500 or a foreign envelope.

Other layers plug into every provider call through `Router.call_hooks` (the control plane's
fault injection is one); this module imports none of them.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.emulator import Emulator
from ..core.jobs import Job
from ..core.state import ReadOnly, StateUnavailable
from ..core.tenants import Tenant
from .errors import ApiError
from .headers import tenant_of
from .notes import RequestNotes, notes_of
from .spec import Operation, Spec

log = logging.getLogger("avatar_emulator")

Handler = Callable[["Call"], Awaitable[Response]]
TenantOf = Callable[[Request], "str | None"]
"""Which tenant a request acts on: by default the one its `X-Emulator-Tenant` header names."""
CallHook = Callable[["Call", Handler], Awaitable[Response]]
"""Runs around a provider call: return `await respond(call)` to let it through, or answer instead."""


class Call:
    """One request as a handler sees it: the request, its operation, provider, tenant and emulator."""

    def __init__(self, request: Request, op: Operation, provider: Provider, emulator: Emulator,
                 notes: RequestNotes, tenant: Tenant) -> None:  # fmt: skip
        self.request = request
        self.op = op
        self.provider = provider
        self.emulator = emulator
        self.tenant = tenant
        """The request's tenant, in the session its call runs in."""
        self.notes = notes
        self.api_key: str | None = None


@dataclass(frozen=True)
class ClientProfile:
    """How a client of this provider talks to it: the test kit builds its clients from this."""

    base_path: str
    """Appended to the server's root URL to make a client's base URL (Boson: `/v1`)."""
    test_api_key: str
    auth_header: str
    auth_scheme: str = ""
    """Prefix of the header's value, e.g. `Bearer`."""

    def auth_headers(self, key: str) -> dict[str, str]:
        return {self.auth_header: f"{self.auth_scheme} {key}".strip()}


class Provider:
    """Base class: a provider's spec, auth scheme, error envelope and what it keeps per job."""

    name: ClassVar[str] = ""
    spec_name: ClassVar[str] = ""
    default_error_code: ClassVar[str] = "invalid_request_error"
    client: ClassVar[ClientProfile]
    job_defaults: ClassVar[Mapping[str, Any]] = {}
    """`params` a job seeded through the control plane gets unless the seed says otherwise."""
    id_prefix: ClassVar[str] = ""
    """Prefix of this provider's job ids (Boson: `video_`)."""
    worker_modules: ClassVar[tuple[str, ...]] = ()
    """Modules holding the tasks this provider sends to worker processes (preloaded in the workers)."""
    video_file: ClassVar[str] = "mp4"
    """The key of a finished job's playable MP4 in `job.files`."""

    def __init__(self) -> None:
        self.spec = Spec.load(self.spec_name)
        self.router: Router | None = None

    def authenticate(self, call: Call) -> None:
        raise NotImplementedError

    def error_response(self, error: ApiError) -> Response:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def error_response_for(self, request: Request, error: ApiError) -> Response:
        """`error` in the envelope of the API family `request`'s path belongs to (for answers made
        outside a route: no route matched, a replay miss, an unexpected failure)."""
        return self.error_response(error)

    def claims(self, request: Request) -> bool:
        """Whether an unmatched request looks like it was meant for this provider."""
        return False

    def restore_job(self, tenant: Tenant, job: Job) -> None:
        """Rebuild what this provider keeps beyond `job`, for a job read back from --data-dir."""

    def job_transition(self, tenant: Tenant, job: Job) -> None:
        """One of this provider's jobs changed status (started, finished)."""

    def settle_render(self, tenant: Tenant, job: Job) -> None:
        """One of this provider's jobs finished rendering (its outcome is on `job.compute`)."""

    def job_summary(self, tenant: Tenant, job: Job) -> dict[str, Any]:
        """What the dashboard shows of a job beyond the control view: the status word this provider's
        API reports (`provider_status`) and, where it has one, a `title`."""
        return {"provider_status": job.status.value}

    def webhook_log(self, tenant: Tenant) -> dict[str, list[dict[str, Any]]] | None:
        """The tenant's webhook `endpoints` (no secrets) and delivery `attempts`; None: no webhooks."""
        return None

    @staticmethod
    def key_accepted(call: Call, key: str) -> bool:
        """The one API-key check: any non-empty key, or one of `--api-key` (compared in constant time)."""
        allowed = call.emulator.settings.api_keys
        return bool(key) and (not allowed or any(hmac.compare_digest(key.encode(), k.encode()) for k in allowed))

    def route(self, op_id: str, handler: Handler, *, authenticated: bool = True, all_jobs: bool = False,
              tenant_of_request: TenantOf | None = None, read_mostly: bool = False) -> Route:
        """Bind `handler` to an operation. It runs in a session of the request's tenant holding the
        tenant's running and queued jobs and the jobs the request names (path parameters, `video_id`),
        or every job with `all_jobs`. `tenant_of_request` picks another tenant than the header's; a
        tenant it names that does not exist answers 404. `read_mostly` (status polls): with a shared
        store the handler first runs in a read-only session, and again in a full one if it raises
        `ReadOnly` (e.g. the job is still rendering)."""
        op = self.spec.operations[op_id]

        async def respond(call: Call) -> Response:
            try:
                if authenticated:
                    self.authenticate(call)
                return await handler(call)
            except ApiError as error:
                call.notes.problems = [p.message for p in error.problems] or [error.message]
                return self.error_response(error)

        async def endpoint(request: Request) -> Response:
            notes = notes_of(request.scope)
            notes.operation_id, notes.provider = op.id, self.name
            router = self.router
            assert router is not None, "a provider serves only once a Router holds it"
            tenants = router.emulator.tenants

            async def call_in(tenant: Tenant) -> Response:
                notes.clock = tenant.clock.now()
                return await router.run(Call(request, op, self, router.emulator, notes, tenant), respond)

            try:
                if tenant_of_request is None:
                    name: str | None = tenant_of(request.scope)
                else:
                    name = tenant_of_request(request)
                    if name is None or not await tenants.exists(name):
                        return self.error_response(ApiError(404, "not_found", "No such file."))
                if (tenant := tenants.at_hand(name)) is not None:
                    return await call_in(tenant)
                jobs = named_jobs(request)
                if read_mostly and tenants.shared:
                    with contextlib.suppress(ReadOnly):
                        async with tenants.session(name, jobs=jobs, read_only=True) as tenant:
                            return await call_in(tenant)
                async with tenants.session(name, jobs=jobs, all_jobs=all_jobs) as tenant:
                    return await call_in(tenant)
            except StateUnavailable as exc:
                log.warning("%s answered 503: %s", op.id, exc)
                return self.error_response(state_unavailable(exc))
            except Exception as exc:
                router.emulator.record_failure(
                    tenant_of(request.scope), f"{request.method} {request.url.path}", traceback.format_exc()
                )
                log.exception("unhandled error in %s", op.id)
                return self.error_response(
                    ApiError(500, "internal_error", f"The emulator failed on {op.id}: {type(exc).__name__}: {exc}")
                )

        endpoint.__name__ = op.id
        return Route(op.path, endpoint, methods=[op.method], name=f"{self.name}:{op.id}")


def state_unavailable(exc: StateUnavailable) -> ApiError:
    """The answer while the shared state store is out of reach: retry in a second."""
    return ApiError(503, "service_unavailable", f"The emulator's shared state is unavailable; retry shortly. ({exc})",
                    headers={"Retry-After": "1"})


def named_jobs(request: Request) -> list[str]:
    """The job ids a request may name: its path parameters and a `video_id` query parameter."""
    named = [str(value) for value in request.path_params.values()]
    if not request.scope.get("query_string"):  # the hot path (GET /v1/videos/{id}) parses nothing
        return named
    video_id = request.query_params.get("video_id")
    return [*named, video_id] if video_id else named


@dataclass
class Router:
    """The providers one app serves, the hooks around their calls, and the runtime they act on."""

    emulator: Emulator
    providers: list[Provider]
    call_hooks: list[CallHook] = field(default_factory=list)

    def __post_init__(self) -> None:
        for provider in self.providers:
            provider.router = self
        self._by_name = {provider.name: provider for provider in self.providers}
        self.emulator.tenants.hooks = self

    def transitioned(self, tenant: Tenant, job: Job) -> None:
        """JobHooks: hand a job's status change to its provider."""
        provider = self._by_name.get(job.provider)
        if provider is not None:
            provider.job_transition(tenant, job)

    def settled(self, tenant: Tenant, job: Job) -> None:
        """JobHooks: hand a finished render to its provider, once."""
        provider = self._by_name.get(job.provider)
        if provider is not None and not job.compute.settled:
            job.compute.settled = True
            provider.settle_render(tenant, job)

    def routes(self) -> list[Route]:
        return [route for provider in self.providers for route in provider.routes()]

    def operations(self) -> dict[str, Provider]:
        """Every operation id the providers' specs define, with its provider."""
        return {op: provider for provider in self.providers for op in provider.spec.operations}

    def provider_for(self, request: Request) -> Provider:
        """The provider a request belongs to, also when it matched no route (for its error envelope)."""
        provider = notes_of(request.scope).provider
        for candidate in self.providers:
            if candidate.name == provider:
                return candidate
        for candidate in self.providers:
            if candidate.claims(request):
                return candidate
        return self.providers[0]

    async def run(self, call: Call, respond: Handler) -> Response:
        """`respond(call)` wrapped in the call hooks (the first registered is the outermost)."""
        if not self.call_hooks:
            return await respond(call)
        chain = respond
        for hook in reversed(self.call_hooks):
            chain = _bind(hook, chain)
        return await chain(call)


def _bind(hook: CallHook, inner: Handler) -> Handler:
    async def bound(call: Call) -> Response:
        return await hook(call, inner)

    return bound
