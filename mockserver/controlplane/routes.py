"""The /_emulator control API (described by openapi/control.yaml)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..pacing import Pacing
from ..settings import parse_pace
from ..tenants import TENANT_HEADER, Tenant
from . import state
from .faults import FaultBook, RuleError, faults_of
from .journal import journal_of

if TYPE_CHECKING:
    from ..app import Emulator

PREFIX = "/_emulator"
CLOCK_MODES = ("real", "frozen", "scaled")
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": code}}, status_code=status)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    if host in ("localhost", "testclient", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def version() -> str:
    try:
        return metadata.version("avatar-emulator")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class ControlPlane:
    """Handlers for /_emulator/*; each acts on the tenant named by X-Emulator-Tenant (or ?tenant=)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def operations(self) -> dict[str, str]:
        """Every operation id the providers' specs define, with its provider."""
        return {op: provider.name for provider in self.emulator.providers for op in provider.spec.operations}

    def tenant_name(self, request: Request) -> str:
        return request.query_params.get("tenant") or request.headers.get(TENANT_HEADER) or "default"

    def tenant(self, request: Request) -> Tenant:
        return self.emulator.tenants.get(self.tenant_name(request))

    def guard(self, handler: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if not (_loopback(request) or self.emulator.settings.extra.get("control_remote")):
                return _error(403, "forbidden", "The control plane answers loopback clients only "
                                                "(serve with --control-any-host to change that).")
            try:
                return await handler(request)
            except RuleError as exc:
                return _error(400, "invalid_request_error", str(exc))

        return guarded

    async def body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise RuleError("the body must be JSON.") from None

    # --- health, routes, tenants, reset --------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse({
            "status": "ok",
            "version": version(),
            "providers": [provider.name for provider in self.emulator.providers],
            "capabilities": ["tenants", "faults", "network_faults", "clock", "polls", "journal", "state", "dashboard",
                             "fmp4_streaming", *(f"provider:{p.name}" for p in self.emulator.providers)],
            "pace": str(self.emulator.settings.pace),
            "tenants": len(self.emulator.tenants.names()),
        })

    async def routes(self, request: Request) -> Response:
        registered = {getattr(route, "name", "") for route in request.app.routes}
        out = []
        for provider in self.emulator.providers:
            for op in provider.spec.operations.values():
                declared = op.raw.get("x-emulator-status")
                status = "missing" if f"{provider.name}:{op.id}" not in registered else declared or "implemented"
                out.append({"provider": provider.name, "operation_id": op.id, "method": op.method,
                            "path": op.path, "status": status})
        return JSONResponse({"routes": out})

    async def tenants(self, request: Request) -> Response:
        return JSONResponse({"tenants": self.emulator.tenants.names()})

    async def drop_tenant(self, request: Request) -> Response:
        name = request.path_params["tenant_id"]
        existed = name in self.emulator.tenants.names()
        self.emulator.tenants.drop(name)
        return JSONResponse({"dropped": name, "existed": existed})

    async def reset(self, request: Request) -> Response:
        body = await self.body(request)
        if isinstance(body, dict) and body.get("all"):
            names = self.emulator.tenants.names()
            for name in names:
                self.emulator.tenants.drop(name)
            self.emulator.failures.clear()
            self.emulator.tenants.runner.errors.clear()
            return JSONResponse({"reset": names})
        name = self.tenant_name(request)
        self.emulator.tenants.drop(name)
        return JSONResponse({"reset": [name]})

    # --- state ----------------------------------------------------------------------------------

    async def get_state(self, request: Request) -> Response:
        tenant = self.tenant(request)
        tenant.refresh()
        return JSONResponse(state.describe(tenant))

    async def post_state(self, request: Request) -> Response:
        body = await self.body(request)
        if not isinstance(body, dict):
            raise RuleError("the body must be an object {jobs, avatars, voices}.")
        providers = [provider.name for provider in self.emulator.providers]
        return JSONResponse(state.seed(self.tenant(request), body, providers), status_code=201)

    async def failures(self, request: Request) -> Response:
        name = self.tenant_name(request)
        found = [{"where": f.where, "traceback": f.traceback} for f in self.emulator.failures if f.tenant == name]
        found += [{"where": "render", "traceback": tb} for tenant, tb in self.emulator.tenants.runner.errors
                  if tenant == name]
        return JSONResponse({"tenant": name, "failures": found})

    # --- faults ---------------------------------------------------------------------------------

    async def list_faults(self, request: Request) -> Response:
        book = fault_book_for(self.emulator, self.tenant(request))
        return JSONResponse({"rules": [rule.describe() for rule in book.rules]})

    async def add_faults(self, request: Request) -> Response:
        body = await self.body(request)
        raws = body if isinstance(body, list) else body.get("rules") if isinstance(body, dict) and "rules" in body \
            else [body]
        if not isinstance(raws, list) or not raws:
            raise RuleError("send one rule, a list of rules, or {rules: [...]}.")
        book = fault_book_for(self.emulator, self.tenant(request))
        known = self.operations()
        added = []
        try:
            for raw in raws:
                added.append(book.add(raw, known))
        except RuleError:
            for rule in added:
                book.remove(rule.id)
            raise
        return JSONResponse({"rules": [rule.describe() for rule in added]}, status_code=201)

    async def clear_faults(self, request: Request) -> Response:
        fault_book_for(self.emulator, self.tenant(request)).clear()
        return JSONResponse({"rules": []})

    async def delete_fault(self, request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        if not fault_book_for(self.emulator, self.tenant(request)).remove(rule_id):
            return _error(404, "not_found", f"No fault rule {rule_id!r} in this tenant.")
        return JSONResponse({"removed": rule_id})

    # --- clock ----------------------------------------------------------------------------------

    def clock_json(self, tenant: Tenant) -> dict[str, Any]:
        return {**tenant.clock.describe(), "pace": tenant.pacing.describe(), "polls": tenant.polls_to_complete}

    async def get_clock(self, request: Request) -> Response:
        return JSONResponse(self.clock_json(self.tenant(request)))

    async def post_clock(self, request: Request) -> Response:
        body = await self.body(request)
        if not isinstance(body, dict):
            raise RuleError("the body must be an object {mode, scale, advance, pace, polls}.")
        unknown = sorted(set(body) - {"mode", "scale", "advance", "pace", "polls"})
        if unknown:
            raise RuleError(f"unknown field(s) {', '.join(map(repr, unknown))}.")
        tenant = self.tenant(request)
        mode, scale, advance = body.get("mode"), body.get("scale", 1.0), body.get("advance")
        if mode is not None and mode not in CLOCK_MODES:
            raise RuleError(f"'mode' must be one of {', '.join(CLOCK_MODES)}.")
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale <= 0:
            raise RuleError("'scale' must be a positive number.")
        if advance is not None and (not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0):
            raise RuleError("'advance' must be a number of seconds >= 0 (a clock only moves forward).")
        polls = body.get("polls")
        if "polls" in body and polls is not None and (not isinstance(polls, int) or isinstance(polls, bool)
                                                      or polls < 1):
            raise RuleError("'polls' must be an integer >= 1, or null to follow the clock.")
        pace = None
        if body.get("pace") is not None:
            try:
                pace = parse_pace(body["pace"])
            except ValueError as exc:
                raise RuleError(f"'pace': {exc}") from None
        if pace is not None:
            tenant.set_pacing(Pacing(pace))
        if "polls" in body:
            tenant.set_progression(polls)
        if mode is not None:
            tenant.clock.set_mode(mode, scale=float(scale))
        elif "scale" in body and tenant.clock.mode == "scaled":
            tenant.clock.set_mode("scaled", scale=float(scale))
        if advance:
            tenant.clock.advance(float(advance))
        tenant.refresh()
        return JSONResponse(self.clock_json(tenant))

    # --- journal --------------------------------------------------------------------------------

    async def journal(self, request: Request) -> Response:
        query = request.query_params
        status = query.get("status")
        if status is not None and not status.isdigit():
            raise RuleError("'status' must be an HTTP status code.")
        names = self.emulator.tenants.names() if query.get("tenant") == "*" else [self.tenant_name(request)]
        entries = []
        for name in names:
            entries += journal_of(self.emulator, name).select(
                operation_id=query.get("operation_id"),
                status=int(status) if status else None,
                fault=query.get("fault"),
            )
        seq = query.get("seq")
        if seq is not None:
            entries = [entry for entry in entries if str(entry.seq) == seq]
        limit = query.get("limit")
        if limit is not None and limit.isdigit():
            entries = entries[-int(limit):] if int(limit) else []
        brief = query.get("brief") in ("1", "true")
        return JSONResponse({"entries": [entry.brief() if brief else entry.to_json() for entry in entries]})

    async def clear_journal(self, request: Request) -> Response:
        journal_of(self.emulator, self.tenant_name(request)).clear()
        return JSONResponse({"entries": []})

    def routes_list(self) -> list[BaseRoute]:
        table: list[tuple[str, str, Endpoint]] = [
            ("/health", "GET", self.health),
            ("/routes", "GET", self.routes),
            ("/reset", "POST", self.reset),
            ("/tenants", "GET", self.tenants),
            ("/tenants/{tenant_id:str}", "DELETE", self.drop_tenant),
            ("/state", "GET", self.get_state),
            ("/state", "POST", self.post_state),
            ("/failures", "GET", self.failures),
            ("/faults", "GET", self.list_faults),
            ("/faults", "POST", self.add_faults),
            ("/faults", "DELETE", self.clear_faults),
            ("/faults/{rule_id:str}", "DELETE", self.delete_fault),
            ("/clock", "GET", self.get_clock),
            ("/clock", "POST", self.post_clock),
            ("/journal", "GET", self.journal),
            ("/journal", "DELETE", self.clear_journal),
        ]
        return [Route(PREFIX + path, self.guard(handler), methods=[method], name=f"control:{method} {path}")
                for path, method, handler in table]


def fault_book_for(emulator: Emulator, tenant: Tenant) -> FaultBook:
    return faults_of(tenant, emulator.settings.seed)


def control_routes(emulator: Emulator) -> list[BaseRoute]:
    """The /_emulator routes, or none when the control plane is switched off."""
    if not emulator.settings.control:
        return []
    from .ui import dashboard_routes  # reads provider state: imported after the providers, no import cycle

    plane = ControlPlane(emulator)
    return [*plane.routes_list(), *dashboard_routes(plane)]
