"""Limits enforced while a request is read, not after: the body's size, and JSON that is too
deep, has duplicate keys, out-of-range numbers or NUL characters. Every refusal is an ApiError
whose message says what is wrong, so each provider answers it in its own envelope."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.types import Message

from .errors import ApiError

MAX_JSON_DEPTH = 32
"""Nesting the specs never need more than a handful of; deep documents are refused outright."""
MAX_INT_DIGITS = 40
"""Integers longer than this are refused (no request field holds more than a 64-bit value)."""
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SURROGATE = re.compile("[\ud800-\udfff]")
_STEP = np.zeros(256, dtype=np.int32)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


class BodyTooLarge(Exception):
    """Raised from inside the body stream once more than `limit` bytes have arrived."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


def capped(request: Request, limit: int) -> Request:
    """A view of `request` whose body stream raises BodyTooLarge past `limit` bytes.

    Parsers (starlette's multipart included) then stop at the limit instead of reading, spooling
    and keeping a body of any size.
    """
    received = 0
    receive = request.receive

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return Request(request.scope, receive=capped_receive)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"the integer {text[:12]}... has {len(digits)} digits, more than {MAX_INT_DIGITS}")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:24]} is out of range")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:40]!r} appears more than once in one object")
        out[key] = value
    return out


def json_depth_ok(raw: bytes | bytearray | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest at most `limit` deep (vectorised: no recursion, no loop)."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return True
    bare = _STRING.sub("", text).encode("utf-8", "replace")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = _STEP[codes]
    return bool(steps.size == 0 or int(np.cumsum(steps).max()) <= limit)


def _check_strings(value: Any, path: str = "") -> None:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ApiError(400, "", f"'{where or 'body'}' contains a NUL character.", field=where or None)
            if not item.isascii() and _SURROGATE.search(item):  # isascii: O(1), a flag of the str
                raise ApiError(400, "", f"'{where or 'body'}' contains an unpaired UTF-16 surrogate (not valid "
                                        "Unicode text).", field=where or None)
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise ApiError(400, "", f"A key in '{where or 'body'}' contains a NUL character.")
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def strict_json(raw: bytes | bytearray, code: str, *, what: str = "The request body") -> Any:
    """Parse JSON strictly; raise ApiError(400, code) naming the problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, code, f"{what} is not valid UTF-8 (byte {exc.start}).") from None
    if not json_depth_ok(text):
        raise ApiError(400, code, f"{what} nests JSON more than {MAX_JSON_DEPTH} levels deep.")
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise ApiError(400, code, f"{what} is not valid JSON: {exc.msg} at position {exc.pos}.") from None
    except ValueError as exc:
        raise ApiError(400, code, f"{what} is not acceptable JSON: {exc}.") from None
    except RecursionError:
        raise ApiError(400, code, f"{what} nests JSON too deeply.") from None
    try:
        _check_strings(value)
    except ApiError as error:
        error.code = code
        raise
    return value
