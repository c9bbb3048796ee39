"""The dashboard: /_emulator/ui, static HTML, CSS and JS shipped in the package (no build step, no CDN).

The page reads and drives the emulator through the documented control API only. `GET
/_emulator/report` hands it the conformance report named by `avatar-emulator report FILE`.
"""

from __future__ import annotations

import functools
import json
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ...http.names import CONTROL_PREFIX
from ...http.responses import JSONResponse
from ..access import TOKEN_COOKIE, TOKEN_QUERY, UI_PATH, token_matches
from ..deliveries import list_webhooks
from ..media import JobMedia
from ..routes import ControlRoutes, error
from ..verify import verify

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@cache
def index_html() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


class Dashboard:
    """The page, its assets and the report it may show."""

    def __init__(self, routes: ControlRoutes) -> None:
        self.control = routes

    async def page(self, request: Request) -> Response:
        token = request.query_params.get(TOKEN_QUERY)
        if token is not None:
            # Keep a valid token in a cookie the page's own requests carry; drop it from the address bar.
            response: Response = RedirectResponse(UI_PATH, status_code=303)
            expected = self.control.emulator.settings.control_token
            if expected and token_matches(token, expected):
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path=CONTROL_PREFIX)
            return response
        return HTMLResponse(index_html(), headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                                                   "X-Content-Type-Options": "nosniff"})

    async def report(self, request: Request) -> Response:
        """The report file given at startup, read afresh on each request (a rerun shows up on reload)."""
        path = self.control.emulator.settings.report_file
        if path is None:
            return error(404, "not_found", "No report was given: run `avatar-emulator report REPORT.json`, "
                                            "or open a report file in the page.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            return error(404, "not_found", f"Cannot read the report {str(path)!r}: {exc.strerror}.")
        except ValueError as exc:
            return error(422, "invalid_report", f"The report {str(path)!r} is not JSON: {exc}.")
        if not isinstance(data, dict):
            return error(422, "invalid_report", f"The report {str(path)!r} is not a JSON object.")
        return JSONResponse(data, headers={"Cache-Control": "no-cache"})

    def routes(self) -> list[BaseRoute]:
        return [
            Route(UI_PATH, self.page, methods=["GET"], name="control:GET /ui"),
            Mount(UI_PATH + "/static", StaticFiles(directory=STATIC), name="control:ui-static"),
            Route(CONTROL_PREFIX + "/report", self.report, methods=["GET"], name="control:GET /report"),
        ]


def dashboard_routes(routes: ControlRoutes) -> list[BaseRoute]:
    """The dashboard and the control routes it adds: job media, webhook deliveries, journal checks, report."""
    extra = [("/journal/verify", "POST", verify), ("/webhooks", "GET", list_webhooks)]
    return [
        *(Route(CONTROL_PREFIX + path, routes.refusing(functools.partial(handler, routes)), methods=[method],
                name=f"control:{method} {path}") for path, method, handler in extra),
        *JobMedia(routes).routes(),
        *Dashboard(routes).routes(),
    ]
