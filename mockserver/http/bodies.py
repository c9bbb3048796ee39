"""Read a request body (JSON or multipart) and validate it against its operation's schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from .errors import ApiError
from .limits import BodyTooLarge, capped, strict_json
from .spec import Operation

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Above the 10 MB inline limit plus base64 and multipart overhead."""
MAX_PARTS = 32


@dataclass
class Body:
    """A validated body: JSON values, plus raw bytes of uploaded file parts."""

    values: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    content_type: str = "application/json"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, op: Operation, *, default_code: str) -> Body:
    """Parse and validate; raise ApiError (400/413) on anything malformed."""
    media_type = _media_type(request) or "application/json"
    accepted = op.body_content_types()
    if media_type not in accepted:
        raise ApiError(
            400,
            default_code,
            f"Unsupported Content-Type {media_type!r}: send {' or '.join(accepted)}.",
            field="Content-Type",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(default_code)
    if media_type == "multipart/form-data":
        body = await _read_form(request, op, default_code)
    else:
        body = Body(await _read_json(request, default_code))
    schema = op.body_schema(media_type)
    assert schema is not None
    problems = op.spec.validate(schema, body.values)
    if problems:
        raise ApiError.from_problems(problems, default_code=default_code)
    body.content_type = media_type
    return body


def _too_large(code: str) -> ApiError:
    return ApiError(413, code, f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.")


async def _read_json(request: Request, code: str) -> Any:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _too_large(code)
    if not raw:
        raise ApiError(400, code, "The request body is empty: a JSON object is required.")
    return strict_json(raw, code)


async def _read_form(request: Request, op: Operation, code: str) -> Body:
    if "boundary=" not in request.headers.get("content-type", ""):
        raise ApiError(400, code, "The multipart/form-data Content-Type has no boundary.", field="Content-Type")
    try:
        form = await capped(request, MAX_BODY_BYTES).form(
            max_files=MAX_PARTS, max_fields=MAX_PARTS, max_part_size=MAX_BODY_BYTES
        )
    except BodyTooLarge:
        raise _too_large(code) from None
    except Exception as exc:  # starlette raises its own HTTPException / MultiPartException
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc)
        raise ApiError(400, code, f"The multipart body cannot be parsed: {detail}") from None
    try:
        return await _form_values(form, op, code)
    finally:
        await form.close()


async def _form_values(form: FormData, op: Operation, code: str) -> Body:
    schema = op.spec.resolve(op.body_schema("multipart/form-data") or {})
    properties = schema.get("properties", {})
    encoding = op.body_encoding("multipart/form-data")
    values: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    seen: set[str] = set()
    for name, item in form.multi_items():
        if name in seen:
            raise ApiError(400, code, f"The form field '{name}' is given more than once.", field=name)
        seen.add(name)
        prop = op.spec.resolve(properties.get(name, {}))
        if isinstance(item, UploadFile):
            data = await item.read()
            if prop.get("format") == "binary":
                files[name] = data
                values[name] = f"<file {item.filename or name}>"
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, code, f"The form field '{name}' is not UTF-8 text.", field=name) from None
        else:
            text = item
        if encoding.get(name, {}).get("contentType") == "application/json":
            try:
                values[name] = strict_json(text.encode(), code, what=f"The form field '{name}'")
            except ApiError as error:
                error.field = name
                raise
        else:
            values[name] = text
    return Body(values, files, "multipart/form-data")
