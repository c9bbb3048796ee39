"""The emulator's test control plane: everything server-side about /_emulator.

`ControlPlane.install` plugs it into an app: its routes (the dashboard's included), the one access
gate, the journal middleware, and fault injection as a hook around every provider call.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from ..core.emulator import Emulator
from ..http.routing import Router
from .access import ControlAccessMiddleware
from .inject import inject_faults
from .journal import JournalMiddleware
from .routes import ControlRoutes
from .ui import dashboard_routes

__all__ = ["ControlPlane"]


class ControlPlane:
    """The /_emulator routes, access gate, journal and fault injection of one app."""

    def __init__(self, emulator: Emulator, router: Router) -> None:
        self.emulator = emulator
        self.router = router

    def routes(self) -> list[BaseRoute]:
        """The control API, and the dashboard with the routes it adds."""
        control = ControlRoutes(self.emulator, self.router)
        return [*control.route_table(), *dashboard_routes(control)]

    def install(self, app: Starlette) -> None:
        """Register fault injection on the router, and the journal and access gate on `app`."""
        self.router.call_hooks.append(inject_faults)
        app.add_middleware(JournalMiddleware, emulator=self.emulator)
        settings = self.emulator.settings
        app.add_middleware(ControlAccessMiddleware, token=settings.control_token, any_host=settings.control_any_host)
