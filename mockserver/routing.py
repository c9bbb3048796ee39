"""Providers and their routes: each route is bound to an OpenAPI operation and to its
provider's auth and error envelope, so no handler ever leaks a bare 500 or a foreign envelope."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .controlplane.inject import faulted
from .controlplane.inject import fire as fire_fault
from .errors import ApiError
from .spec import Operation, Spec

if TYPE_CHECKING:
    from .app import Emulator
    from .tenants import Tenant

log = logging.getLogger("avatar_emulator")

Handler = Callable[["Call"], Awaitable[Response]]


class Call:
    """One request as a handler sees it: the request, its operation, tenant and emulator."""

    def __init__(self, request: Request, op: Operation, provider: Provider) -> None:
        self.request = request
        self.op = op
        self.provider = provider
        self.emulator: Emulator = request.app.state.emulator
        self.tenant: Tenant = self.emulator.tenant_for(request)
        self.api_key: str | None = None


class Provider:
    """Base class: a provider's spec, auth scheme and error envelope."""

    name: str = ""
    spec_name: str = ""
    default_error_code: str = "invalid_request_error"

    def __init__(self) -> None:
        self.spec = Spec.load(self.spec_name)

    def authenticate(self, call: Call) -> None:
        raise NotImplementedError

    def error_response(self, error: ApiError) -> Response:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def error_response_for(self, request: Request, error: ApiError) -> Response:
        """`error` in the envelope of the API family `request`'s path belongs to (for answers made outside a route)."""
        return self.error_response(error)

    def claims(self, request: Request) -> bool:
        """Whether an unmatched request looks like it was meant for this provider."""
        return False

    def route(self, op_id: str, handler: Handler, *, authenticated: bool = True) -> Route:
        op = self.spec.operations[op_id]
        path = op.path.replace("{", "{").replace("}", "}")

        async def respond(call: Call) -> Response:
            try:
                if authenticated:
                    self.authenticate(call)
                return await handler(call)
            except ApiError as error:
                call.request.scope["problems"] = [p.message for p in error.problems] or [error.message]
                return self.error_response(error)

        async def endpoint(request: Request) -> Response:
            request.scope["operation_id"] = op.id
            request.scope["provider"] = self.name
            try:
                call = Call(request, op, self)
                rule = fire_fault(call)
                if rule is not None:
                    return await faulted(call, rule, respond)
                return await respond(call)
            except Exception as exc:
                emulator = request.app.state.emulator
                emulator.record_failure(request, traceback.format_exc())
                log.exception("unhandled error in %s", op.id)
                return self.error_response(
                    ApiError(500, "internal_error", f"The emulator failed on {op.id}: {type(exc).__name__}: {exc}")
                )

        endpoint.__name__ = op.id
        return Route(path, endpoint, methods=[op.method], name=f"{self.name}:{op.id}")
