"""The hot path's own header reading and JSON rendering answer exactly what starlette's would."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette import responses
from starlette.datastructures import Headers

from mockserver.http.headers import request_header, tenant_of
from mockserver.http.responses import JSONResponse, compact_json


def scope_with(*headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"type": "http", "headers": list(headers)}


@pytest.mark.parametrize(
    "headers",
    [
        (),
        ((b"x-emulator-tenant", b"team-a"),),
        ((b"x-emulator-tenant", b""),),
        ((b"x-emulator-tenant", b"first"), (b"x-emulator-tenant", b"second")),
        ((b"authorization", b"Bearer k"), (b"x-emulator-tenant", b"t\xe9")),
    ],
)
def test_headers_read_from_the_scope_match_starlette_headers(headers: tuple[tuple[bytes, bytes], ...]) -> None:
    scope = scope_with(*headers)
    starlette_headers = Headers(scope=scope)
    for name in ("x-emulator-tenant", "authorization", "x-api-key"):
        assert request_header(scope, name.encode()) == starlette_headers.get(name)
    assert tenant_of(scope) == (starlette_headers.get("x-emulator-tenant") or "default")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_json_bytes_are_starlettes(value: object) -> None:
    assert compact_json(value) == responses.JSONResponse(value).body
    assert JSONResponse(value).body == responses.JSONResponse(value).body


def test_nan_is_refused_as_starlette_refuses_it() -> None:
    with pytest.raises(ValueError):
        responses.JSONResponse({"x": math.nan})
    with pytest.raises(ValueError):
        JSONResponse({"x": math.nan})
