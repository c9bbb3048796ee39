"""The /_emulator control API (described by openapi/control.yaml)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from importlib import metadata
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.emulator import FAILURES_KEPT, Emulator
from ..core.pacing import Pacing
from ..core.settings import parse_pace
from ..core.tenants import Tenant
from ..http.names import CONTROL_PREFIX, TENANT_HEADER
from ..http.responses import JSONResponse
from ..http.routing import Router
from . import state
from .bodies import RuleError, read_json
from .faults import FAULTS
from .journal import brief, journal_of, select

Endpoint = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str) -> JSONResponse:
    """The control plane's error envelope (Boson's: `{"error": {"message", "type"}}`)."""
    return JSONResponse({"error": {"message": message, "type": code}}, status_code=status)


def version() -> str:
    try:
        return metadata.version("avatar-emulator")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class ControlRoutes:
    """Handlers for /_emulator/*; each acts on the tenant named by X-Emulator-Tenant (or ?tenant=).

    Who may call them is decided once, by `ControlAccessMiddleware`, before any of these runs.
    """

    def __init__(self, emulator: Emulator, router: Router) -> None:
        self.emulator = emulator
        self.router = router

    def tenant_name(self, request: Request) -> str:
        return request.query_params.get("tenant") or request.headers.get(TENANT_HEADER) or "default"

    def session(self, request: Request, *, jobs: Iterable[str] = (),
                all_jobs: bool = False) -> AbstractAsyncContextManager[Tenant]:  # fmt: skip
        """A session of the request's tenant (see `Tenants.session`)."""
        return self.emulator.tenants.session(self.tenant_name(request), jobs=jobs, all_jobs=all_jobs)

    @staticmethod
    def refusing(handler: Endpoint) -> Endpoint:
        async def refused_as_400(request: Request) -> Response:
            try:
                return await handler(request)
            except RuleError as exc:
                return error(400, "invalid_request_error", str(exc))

        return refused_as_400

    # --- health, routes, tenants, reset --------------------------------------------------------

    async def health(self, request: Request) -> Response:
        names = [provider.name for provider in self.router.providers]
        return JSONResponse({
            "status": "ok",
            "version": version(),
            "providers": names,
            "capabilities": ["tenants", "faults", "network_faults", "clock", "polls", "journal", "state", "dashboard",
                             "fmp4_streaming", *(f"provider:{name}" for name in names)],
            "pace": str(self.emulator.settings.pace),
            "tenants": len(await self.emulator.tenants.names()),
            "state": "redis" if self.emulator.tenants.shared else "embedded",
            "workers": self.emulator.workers.stats(),
        })

    async def routes(self, request: Request) -> Response:
        registered = {getattr(route, "name", "") for route in request.app.routes}
        out = []
        for provider in self.router.providers:
            for op in provider.spec.operations.values():
                declared = op.raw.get("x-emulator-status")
                status = "missing" if f"{provider.name}:{op.id}" not in registered else declared or "implemented"
                out.append({"provider": provider.name, "operation_id": op.id, "method": op.method,
                            "path": op.path, "status": status})
        return JSONResponse({"routes": out})

    async def tenants(self, request: Request) -> Response:
        return JSONResponse({"tenants": await self.emulator.tenants.names()})

    async def drop_tenant(self, request: Request) -> Response:
        name = request.path_params["tenant_id"]
        existed = await self.emulator.tenants.exists(name)
        await self.emulator.tenants.drop(name)
        return JSONResponse({"dropped": name, "existed": existed})

    async def reset(self, request: Request) -> Response:
        body = await read_json(request, "reset")
        names = await self.emulator.tenants.names() if body.get("all") else [self.tenant_name(request)]
        for name in names:
            await self.emulator.tenants.drop(name)
        return JSONResponse({"reset": names})

    # --- state ----------------------------------------------------------------------------------

    async def get_state(self, request: Request) -> Response:
        async with self.session(request, all_jobs=True) as tenant:
            tenant.refresh()
            return JSONResponse(state.describe(tenant))

    async def post_state(self, request: Request) -> Response:
        body = await read_json(request, "seedState")
        providers = {provider.name: provider for provider in self.router.providers}
        named = [str(job["id"]) for job in body.get("jobs") or [] if job.get("id")]
        async with self.session(request, jobs=named) as tenant:
            return JSONResponse(state.seed(tenant, body, providers), status_code=201)

    async def failures(self, request: Request) -> Response:
        name = self.tenant_name(request)
        found = await self.emulator.tenants.log(name, "failures", FAILURES_KEPT).items()
        return JSONResponse({"tenant": name, "failures": [{"where": f["where"], "traceback": f["traceback"]}
                                                          for f in found]})

    # --- faults ---------------------------------------------------------------------------------

    async def list_faults(self, request: Request) -> Response:
        async with self.session(request) as tenant:
            return JSONResponse({"rules": [rule.describe() for rule in FAULTS.of(tenant).rules]})

    async def add_faults(self, request: Request) -> Response:
        # The spec's oneOf (a rule, a list, or {rules}) would hide which field of which rule is wrong:
        # each rule is checked against FaultRuleIn on its own instead.
        body = await read_json(request, "addFaults", validate=False)
        raws: Any = body if isinstance(body, list) else body.get("rules", [body]) if isinstance(body, dict) else None
        if not isinstance(raws, list) or not raws:
            raise RuleError("send one rule, a list of rules, or {rules: [...]}.")
        known = self.router.operations()
        async with self.session(request) as tenant:
            book = FAULTS.of(tenant)
            added = []
            try:
                for index, raw in enumerate(raws):
                    added.append(book.add(raw, known, where=f"rules[{index}]" if len(raws) > 1 else ""))
            except RuleError:
                for rule in added:
                    book.remove(rule.id)
                raise
            return JSONResponse({"rules": [rule.describe() for rule in added]}, status_code=201)

    async def clear_faults(self, request: Request) -> Response:
        async with self.session(request) as tenant:
            FAULTS.of(tenant).clear()
        return JSONResponse({"rules": []})

    async def delete_fault(self, request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        async with self.session(request) as tenant:
            if not FAULTS.of(tenant).remove(rule_id):
                return error(404, "not_found", f"No fault rule {rule_id!r} in this tenant.")
        return JSONResponse({"removed": rule_id})

    # --- clock ----------------------------------------------------------------------------------

    def clock_json(self, tenant: Tenant) -> dict[str, Any]:
        return {**tenant.clock.describe(), "pace": tenant.pacing.describe(), "polls": tenant.polls_to_complete}

    async def get_clock(self, request: Request) -> Response:
        async with self.session(request) as tenant:
            return JSONResponse(self.clock_json(tenant))

    async def post_clock(self, request: Request) -> Response:
        body = await read_json(request, "setClock")
        async with self.session(request) as tenant:
            return JSONResponse(self.set_clock(tenant, body))

    def set_clock(self, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("pace") is not None:
            tenant.set_pacing(Pacing(parse_pace(body["pace"])))
        if "polls" in body:
            tenant.set_progression(body["polls"])
        scale = float(body.get("scale", 1.0))
        if body.get("mode") is not None:
            tenant.clock.set_mode(body["mode"], scale=scale)
        elif "scale" in body and tenant.clock.mode == "scaled":
            tenant.clock.set_mode("scaled", scale=scale)
        if body.get("advance"):
            tenant.clock.advance(float(body["advance"]))
        tenant.refresh()
        return self.clock_json(tenant)

    # --- journal --------------------------------------------------------------------------------

    async def journal(self, request: Request) -> Response:
        query = request.query_params
        status = query.get("status")
        if status is not None and not status.isdigit():
            raise RuleError("'status' must be an HTTP status code.")
        limit = query.get("limit")
        if limit is not None and not limit.isdigit():
            raise RuleError("'limit' must be an integer >= 0.")
        names = await self.emulator.tenants.names() if query.get("tenant") == "*" else [self.tenant_name(request)]
        entries = []
        for name in names:
            entries += await select(journal_of(self.emulator, name), operation_id=query.get("operation_id"),
                                    status=int(status) if status else None, fault=query.get("fault"))
        seq = query.get("seq")
        if seq is not None:
            entries = [entry for entry in entries if str(entry.get("seq")) == seq]
        if limit is not None:
            entries = entries[-int(limit):] if int(limit) else []
        short = query.get("brief") in ("1", "true")
        return JSONResponse({"entries": [brief(entry) if short else entry for entry in entries]})

    async def clear_journal(self, request: Request) -> Response:
        await journal_of(self.emulator, self.tenant_name(request)).clear()
        return JSONResponse({"entries": []})

    def route_table(self) -> list[BaseRoute]:
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
        return [Route(CONTROL_PREFIX + path, self.refusing(handler), methods=[method], name=f"control:{method} {path}")
                for path, method, handler in table]
