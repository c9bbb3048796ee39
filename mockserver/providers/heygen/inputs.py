"""Reading HeyGen requests: the JSON body and query parameters, validated against the spec."""

from __future__ import annotations

from typing import Any

from ...http.bodies import read_body
from ...http.errors import ApiError
from ...http.routing import Call


async def read_json_body(call: Call) -> dict[str, Any]:
    """The validated JSON body; a body that is not a JSON object answers HeyGen's "Invalid json body"."""
    try:
        body = await read_body(call.request, call.op, default_code="invalid_parameter")
    except ApiError as error:
        if error.status == 400 and not error.field and error.code == "invalid_parameter":
            raise ApiError(400, "invalid_parameter", "Invalid json body", problems=error.problems) from None
        raise
    except TypeError:  # a discriminator value that is not a string (e.g. a list) is not hashable
        raise ApiError(400, "invalid_parameter", "Every 'type' field must be a string.") from None
    return body.values


def query(call: Call) -> dict[str, Any]:
    """The operation's query parameters, converted and checked against their schemas (400 on problems)."""
    values: dict[str, Any] = {}
    params = call.request.query_params
    for param in call.op.parameters("query"):
        name = param["name"]
        raw = params.get(name)
        schema = param.get("schema", {})
        is_integer = call.op.spec.resolve(schema).get("type") == "integer"
        # An empty string parameter counts as absent (clients send `token=` on the first page);
        # an empty integer is still not an integer.
        if raw is None or (raw == "" and not is_integer):
            if param.get("required"):
                raise ApiError(400, "missing_params", f"'{name}' is required.", field=name)
            continue
        value: Any = raw
        if is_integer:
            try:
                value = int(raw)
            except ValueError:
                raise ApiError(400, "invalid_query_param", f"'{name}' must be an integer; got {raw!r}.",
                               field=name) from None  # fmt: skip
        problems = call.op.spec.validate(schema, value, prefix=name)
        if problems:
            raise ApiError(400, "invalid_query_param", problems[0].message, field=name, problems=problems)
        values[name] = value
    return values
