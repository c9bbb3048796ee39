"""The OpenAPI documents in openapi/ drive request validation: no second copy of the rules.

Providers turn the `Problem`s found here into their own error envelopes. Two vendor extensions on
schema nodes refine the result:
- `x-error-type`: the provider's error code when that node rejects a value; a string applies to
  every keyword, a mapping (`{maxLength: input_too_long}`) to the keywords it names.
- `x-error-message`: the message used when the node's `oneOf`/`anyOf`/`not` rejects a value
  (the generated messages for those keywords name no field); a mapping (`{pattern: ...}`) gives
  the message for the keywords it names. `{field}` in a message stands for the field's name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def spec_dir() -> Path:
    """openapi/ of a source checkout, or the copy a wheel installs under share/."""
    source = Path(__file__).resolve().parents[2] / "openapi"
    if source.is_dir():
        return source
    return Path(sys.prefix) / "share" / "avatar-emulator" / "openapi"


@dataclass(frozen=True)
class Problem:
    """One reason a request does not match the spec."""

    field: str
    message: str
    error_type: str | None = None
    keyword: str = ""


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    raw: Mapping[str, Any]
    spec: Spec = field(repr=False)

    def body_schema(self, content_type: str) -> Mapping[str, Any] | None:
        content = self.raw.get("requestBody", {}).get("content", {})
        media = content.get(content_type)
        return None if media is None else media.get("schema")

    def body_encoding(self, content_type: str) -> Mapping[str, Any]:
        content = self.raw.get("requestBody", {}).get("content", {})
        encoding: Mapping[str, Any] = content.get(content_type, {}).get("encoding", {})
        return encoding

    def body_content_types(self) -> list[str]:
        return list(self.raw.get("requestBody", {}).get("content", {}))

    def parameters(self, location: str) -> list[Mapping[str, Any]]:
        found = []
        for param in self.raw.get("parameters", []):
            resolved = self.spec.resolve(param)
            if resolved.get("in") == location:
                found.append(resolved)
        return found


class Spec:
    """One OpenAPI 3.0 document, its operations and validators for its schemas."""

    def __init__(self, document: Mapping[str, Any], name: str) -> None:
        self.name = name
        self.document = document
        self._uri = f"urn:avatar-emulator:{name}"
        resource = Resource.from_contents(dict(document), default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(self._uri, resource)
        self._validators: dict[str, OAS30Validator] = {}
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    raw = item[method]
                    op = Operation(raw["operationId"], method.upper(), path, raw, self)
                    self.operations[op.id] = op

    @classmethod
    @cache
    def load(cls, name: str) -> Spec:
        path = spec_dir() / f"{name}.yaml"
        with path.open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle), name)

    def text(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.document, indent=2)
        return (spec_dir() / f"{self.name}.yaml").read_text(encoding="utf-8")

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = node.get("$ref")
        if not ref:
            return node
        target: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return self.resolve(target)

    def _validator(self, schema: Mapping[str, Any]) -> OAS30Validator:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = OAS30Validator(self._rooted(schema), registry=self._registry)
            self._validators[key] = validator
        return validator

    def _rooted(self, node: Any) -> Any:
        """A copy of `node` whose local `$ref`s (`#/components/...`) point into this document."""
        if isinstance(node, Mapping):
            return {key: self._uri + value if key == "$ref" and isinstance(value, str) and value.startswith("#")
                    else self._rooted(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._rooted(item) for item in node]
        return node

    def validate(self, schema: Mapping[str, Any], instance: Any, *, prefix: str = "") -> list[Problem]:
        """All problems of `instance` against `schema`, the most useful first."""
        if self.resolve(schema).get("type") == "object" and not isinstance(instance, dict):
            what = prefix or "The request body"
            return [Problem(field=prefix, message=f"{what} must be a JSON object.", keyword="type")]
        errors = list(self._validator(schema).iter_errors(instance))
        if not errors:
            return []
        return [_problem(err, prefix) for err in sorted(errors, key=_rank)]


_COMBINATORS = ("oneOf", "anyOf", "not")


def _rank(error: ValidationError) -> tuple[int, int, int]:
    # Provider-specific codes win, then errors deeper in the document, then plain keywords.
    return (
        0 if _error_type(error) else 1,
        -len(error.absolute_path),
        1 if error.validator in _COMBINATORS else 0,
    )


def _error_type(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    value = schema.get("x-error-type")
    if isinstance(value, Mapping):
        value = value.get(str(error.validator))
    return str(value) if value is not None else None


def _custom_message(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    value = schema.get("x-error-message")
    if isinstance(value, Mapping):
        value = value.get(str(error.validator))
        return str(value) if value is not None else None
    return str(value) if value is not None and error.validator in _COMBINATORS else None


def field_name(parts: Iterable[Any], prefix: str = "") -> str:
    name = prefix
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name


def _problem(error: ValidationError, prefix: str) -> Problem:
    where = field_name(error.absolute_path, prefix)
    error_type = _error_type(error)
    custom = _custom_message(error)
    if custom:
        message = custom.replace("{field}", where or "body")
    elif error.validator == "additionalProperties":
        extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        names = ", ".join(repr(field_name([extra], where)) for extra in extras)
        message = f"Unknown field {names}: it is not part of the request schema."
        where = field_name([extras[0]], where) if extras else where
    elif error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        where = field_name([missing], where)
        message = f"'{where}' is required."
    elif error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        message = f"'{where}' must be one of {allowed}; got {error.instance!r}."
    elif error.validator == "type":
        message = f"'{where}' must be of type {error.validator_value}; got {type(error.instance).__name__}."
    elif error.validator == "maxLength":
        message = f"'{where}' is too long: at most {error.validator_value} characters are allowed."
    elif error.validator == "minLength":
        message = f"'{where}' is too short: at least {error.validator_value} character(s) required."
    elif error.validator in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        message = f"'{where}' is out of range: {error.message}."
    elif error.validator in ("maxItems", "minItems"):
        message = f"'{where}' has the wrong number of items: {error.message}."
    else:
        message = f"'{where or 'body'}' is invalid: {error.message}."
    return Problem(field=where, message=message, error_type=error_type, keyword=str(error.validator))
