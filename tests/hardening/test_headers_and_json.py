"""The hot path's own header reading and JSON rendering answer exactly what starlette's would."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette import responses
from starlette.datastructures import Headers

from mockserver.http.headers import request_header, tenant_of
from mockserver.http.responses import JSONResponse, RenderedBodies, compact_json


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


@given(st.lists(st.dictionaries(st.sampled_from("abc"), json_values, max_size=3), min_size=1, max_size=6))
def test_kept_bodies_are_the_bytes_of_each_body_as_it_is_now(bodies: list[dict[str, object]]) -> None:
    """Poll after poll of one key, whatever changed (values, types, nesting): the bytes of now."""
    kept = RenderedBodies()
    for body in bodies:
        response = kept.response("video_1", body)
        assert response.body == responses.JSONResponse(body).body
        assert response.headers["content-type"] == "application/json"


def test_kept_bodies_are_reused_only_for_the_same_scalars() -> None:
    kept = RenderedBodies(limit=2)
    body = {"id": "video_1", "progress": 1, "error": None}
    first = kept.response("video_1", body).body
    assert kept.response("video_1", dict(body)).body is first  # kept, not rendered again
    assert kept.response("video_1", {**body, "progress": True}).body == b'{"id":"video_1","progress":true,"error":null}'
    assert kept.response("video_1", {**body, "progress": 2.0}).body == b'{"id":"video_1","progress":2.0,"error":null}'
    assert kept.response("video_1", {**body, "progress": -0.0}).body.endswith(b'"progress":-0.0,"error":null}')
    nested = {"error": {"code": 1}}
    assert kept.response("video_2", nested).body == b'{"error":{"code":1}}'
    nested["error"]["code"] = 2  # changed in place: a nested value is never kept
    assert kept.response("video_2", nested).body == b'{"error":{"code":2}}'
    kept.response("video_1", body)
    kept.response("video_3", body)
    kept.response("video_4", body)  # past the limit: starts over
    assert kept.response("video_1", body).body is not first
