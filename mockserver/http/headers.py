"""Request headers read straight from the ASGI scope.

The hottest paths (the tenant and the API key of every provider call) skip building a starlette
`Headers` for them: 1.6 µs of a status poll's 20 µs, in-process.
"""

from __future__ import annotations

from starlette.types import Scope

from .names import TENANT_HEADER

_TENANT_KEY = TENANT_HEADER.lower().encode()


def request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lowercase bytes, as ASGI servers hand header names over),
    as `Headers.get` would return it; None without one."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def tenant_of(scope: Scope) -> str:
    """The tenant that `X-Emulator-Tenant` names, or `default` (without one, or when it is empty)."""
    return request_header(scope, _TENANT_KEY) or "default"
