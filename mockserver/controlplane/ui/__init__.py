"""The dashboard: /_emulator/ui, static HTML, CSS and JS shipped in the package (no build step, no CDN).

The page reads and drives the emulator through the documented control API only. `GET
/_emulator/report` hands it the conformance report named by `avatar-emulator report FILE`.
"""

from __future__ import annotations

import functools
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ...control_access import TOKEN_COOKIE, TOKEN_QUERY, UI_PATH, token_matches
from ..deliveries import list_webhooks
from ..media import JobMedia
from ..routes import _error
from ..verify import verify

if TYPE_CHECKING:
    from ..routes import ControlPlane

STATIC = Path(__file__).parent / "static"
REPORT_KEY = "report"
"""`Settings.extra` key: the path of a conformance report JSON that GET /_emulator/report serves."""
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@cache
def index_html() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


class Dashboard:
    """The page, its assets and the report it may show."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane

    async def page(self, request: Request) -> Response:
        token = request.query_params.get(TOKEN_QUERY)
        if token is not None:
            # Keep a valid token in a cookie the page's own requests carry; drop it from the address bar.
            response: Response = RedirectResponse(UI_PATH, status_code=303)
            expected = self.plane.emulator.settings.control_token
            if expected and token_matches(token, expected):
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/_emulator")
            return response
        return HTMLResponse(index_html(), headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                                                   "X-Content-Type-Options": "nosniff"})

    async def report(self, request: Request) -> Response:
        """The report file given at startup, read afresh on each request (a rerun shows up on reload)."""
        name = self.plane.emulator.settings.extra.get(REPORT_KEY)
        if not name:
            return _error(404, "not_found", "No report was given: run `avatar-emulator report REPORT.json`, "
                                            "or open a report file in the page.")
        path = Path(str(name))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            return _error(404, "not_found", f"Cannot read the report {str(path)!r}: {exc.strerror}.")
        except ValueError as exc:
            return _error(422, "invalid_report", f"The report {str(path)!r} is not JSON: {exc}.")
        if not isinstance(data, dict):
            return _error(422, "invalid_report", f"The report {str(path)!r} is not a JSON object.")
        return JSONResponse(data, headers={"Cache-Control": "no-cache"})

    def routes(self) -> list[BaseRoute]:
        return [
            Route(UI_PATH, self.plane.guard(self.page), methods=["GET"], name="control:GET /ui"),
            Mount(UI_PATH + "/static", StaticFiles(directory=STATIC), name="control:ui-static"),
            Route("/_emulator/report", self.plane.guard(self.report), methods=["GET"], name="control:GET /report"),
        ]


def dashboard_routes(plane: ControlPlane) -> list[BaseRoute]:
    """The dashboard and the control routes it adds: job media, webhook deliveries, journal checks, report."""
    extra = [("/journal/verify", "POST", verify), ("/webhooks", "GET", list_webhooks)]
    return [
        *(Route(f"/_emulator{path}", plane.guard(functools.partial(handler, plane)), methods=[method],
                name=f"control:{method} {path}") for path, method, handler in extra),
        *JobMedia(plane).routes(),
        *Dashboard(plane).routes(),
    ]
