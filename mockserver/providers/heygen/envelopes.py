"""HeyGen's three response families on one host.

- v2 success `{"error": null, "data": {...}}`;
  v2 error (non-2xx) `{"error": {"code": str, "message": str}, "data": null}`.
- v1 success `{"code": 100, "data": {...}, "message": "Success"}` (some endpoints also carry `msg`);
  v1 error (non-2xx) `{"code": <numeric code>, "data": null, "message": str}`.

Which family an error is rendered in follows the operation being served (a context variable set
per request by the provider); requests that match no route get the v2 family.
"""

from __future__ import annotations

import contextvars
from typing import Any, Literal

from starlette.responses import Response

from ...http.errors import ApiError
from ...http.responses import JSONResponse

Family = Literal["v1", "v2"]
FAMILY: contextvars.ContextVar[Family] = contextvars.ContextVar("heygen_family", default="v2")

SUCCESS = 100

NUMERIC: dict[str, int] = {
    "unauthorized": 400112,
    "invalid_parameter": 400175,
    "missing_params": 40001,
    "invalid_query_param": 40012,
    "avatar_not_found": 400144,
    "talking_photo_not_found": 400174,
    "voice_not_found": 400116,
    "video_not_found": 40031,
    "asset_not_found": 400543,
    "invalid_file_type": 400111,
    "image_format_not_supported": 40002,
    "invalid_audio_format": 40044,
    "video_format_not_supported": 40010,
    "insufficient_credit": 400599,
    "webhook_endpoint_unreachable": 400175,
    "endpoint_not_found": 400175,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "access_denied": 403,
    "internal_error": 500,
}
"""The v1 numeric code for each string code (HeyGen's legacy error table where it has one)."""


def family_of(path: str) -> Family:
    return "v1" if path.startswith("/v1/") else "v2"


def v2(data: Any, status: int = 200) -> Response:
    return JSONResponse({"error": None, "data": data}, status_code=status)


def v1(data: Any, *, message: str | None = "Success", msg: bool = False) -> Response:
    body: dict[str, Any] = {"code": SUCCESS, "data": data}
    if msg:
        body["msg"] = None
    body["message"] = message
    return JSONResponse(body)


def numeric_code(error: ApiError) -> int:
    if error.code == "invalid_parameter" and error.problems and error.problems[0].keyword == "required":
        return NUMERIC["missing_params"]
    return NUMERIC.get(error.code, NUMERIC["invalid_parameter"] if error.status == 400 else error.status)


def error_response(error: ApiError) -> Response:
    if FAMILY.get() == "v1":
        body: dict[str, Any] = {"code": numeric_code(error), "data": None, "message": error.message}
    else:
        body = {"error": {"code": error.code, "message": error.message}, "data": None}
    return JSONResponse(body, status_code=error.status, headers=error.headers)
