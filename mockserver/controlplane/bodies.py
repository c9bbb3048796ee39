"""Control-plane request bodies: strict JSON, validated against openapi/control.yaml by the same
validator the providers use. Anything refused raises `RuleError` (a 400 in the control envelope)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..http.errors import ApiError
from ..http.limits import strict_json
from ..http.spec import Spec

CONTROL_SPEC = "control"
MAX_CONTROL_BODY = 1024 * 1024


class RuleError(ValueError):
    """A control request that cannot be accepted; the message names the field."""


def control_spec() -> Spec:
    return Spec.load(CONTROL_SPEC)


def check(schema_name: str, value: Any, *, prefix: str = "") -> None:
    """Validate `value` against components/schemas/`schema_name`; RuleError with the first problem."""
    problems = control_spec().validate({"$ref": f"#/components/schemas/{schema_name}"}, value, prefix=prefix)
    if problems:
        raise RuleError(problems[0].message)


async def read_json(request: Request, operation_id: str, *, validate: bool = True) -> Any:
    """The body of a control request ({} when empty), validated against its operation's schema
    unless the caller validates its parts itself (`validate=False`)."""
    raw = await request.body()
    if len(raw) > MAX_CONTROL_BODY:
        raise RuleError(f"the body is over {MAX_CONTROL_BODY} bytes.")
    if not raw.strip():
        value: Any = {}
    else:
        try:
            value = strict_json(raw, "invalid_request_error", what="The body")
        except ApiError as error:
            raise RuleError(error.message) from None
    schema = control_spec().operations[operation_id].body_schema("application/json")
    if validate and schema is not None:
        problems = control_spec().validate(schema, value)
        if problems:
            raise RuleError(problems[0].message)
    return value
