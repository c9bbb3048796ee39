"""Who may use the /_emulator control plane: the one access gate, in front of every control route.

Loopback clients (IPv4, IPv6, and IPv4-mapped IPv6 such as `::ffff:127.0.0.1`) always may. A
non-loopback client must send the token (`Authorization: Bearer <token>` or
`X-Emulator-Control-Token: <token>`; compared in constant time) when one is configured; without a
token, only `--control-any-host` lets it in.
A browser cannot send headers when it navigates, so the dashboard also accepts the token once as
`/_emulator/ui?control_token=<token>` and then in the HttpOnly cookie that page sets.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from urllib.parse import parse_qs

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.names import CONTROL_PREFIX, CONTROL_TOKEN_HEADER

TOKEN_HEADER = CONTROL_TOKEN_HEADER.lower().encode()
TOKEN_COOKIE = "avatar_emulator_control"
TOKEN_QUERY = "control_token"
UI_PATH = CONTROL_PREFIX + "/ui"


def is_loopback(host: str | None) -> bool:
    """Whether a client address is loopback (in-process test clients count as loopback)."""
    if host in (None, "", "localhost", "testclient"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def presented_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == TOKEN_HEADER:
            return value.decode("latin-1").strip()
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return rest.strip()
    return None


def browser_token(scope: Scope) -> str | None:
    """The token a browser presents: `?control_token=` on the dashboard page, else the cookie it set."""
    if scope.get("path") == UI_PATH:
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(TOKEN_QUERY)
        if values:
            return values[0]
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1")).get(TOKEN_COOKIE)
    return None


def token_matches(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


class ControlAccessMiddleware:
    """Refuse /_emulator to non-loopback clients unless they present the control token."""

    def __init__(self, app: ASGIApp, *, token: str | None, any_host: bool) -> None:
        self.app = app
        self.token = token
        self.any_host = any_host

    def allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        if is_loopback(client[0] if client else None):
            return True
        if self.token:
            return token_matches(presented_token(scope.get("headers", [])), self.token) or \
                token_matches(browser_token(scope), self.token)
        return self.any_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        if self.allowed(scope):
            await self.app(scope, receive, send)
            return
        why = "a valid control token" if self.token else "--control-token or --control-any-host on the server"
        body = json.dumps({"error": {"message": f"The control plane answers loopback clients only; "
                                                f"other clients need {why}.", "type": "forbidden"}}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
