"""POST /_emulator/journal/verify: `assert_called` as a control route, near-misses included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..control.matching import check_called, differences, summary
from .faults import RuleError
from .journal import journal_of

if TYPE_CHECKING:
    from .routes import ControlPlane


def parse(body: Any, operations: Mapping[str, str]) -> tuple[str, int | None, dict[str, Any] | None]:
    """(operation_id, times, where) from {operation_id, times?, where?}."""
    if not isinstance(body, dict):
        raise RuleError("the body must be an object {operation_id, times, where}.")
    unknown = sorted(set(body) - {"operation_id", "times", "where"})
    if unknown:
        raise RuleError(f"unknown field(s) {', '.join(map(repr, unknown))}.")
    op = body.get("operation_id")
    if op not in operations:
        raise RuleError(f"unknown operation_id {op!r}; GET /_emulator/routes lists them.")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 0):
        raise RuleError("'times' must be an integer >= 0, or null for 'at least once'.")
    where = body.get("where")
    if where is not None and not isinstance(where, dict):
        raise RuleError("'where' must be an object of dotted paths to wanted values, e.g. {\"status\": 200}.")
    return str(op), times, where or None


async def verify(plane: ControlPlane, request: Request) -> Response:
    """Check the tenant's journal like `EmulatorControl.journal.assert_called` and explain a mismatch."""
    op, times, where = parse(await plane.body(request), plane.operations())
    name = plane.tenant_name(request)
    entries = [entry.to_json() for entry in journal_of(plane.emulator, name).select()]
    try:
        matched = check_called(entries, op, times=times, where=where, tenant=name)
        message = None
    except AssertionError as failure:
        matched = [entry for entry in entries if entry.get("operation_id") == op and not differences(entry, where)]
        message = str(failure)
    near = [{"seq": entry["seq"], "summary": summary(entry), "differences": differences(entry, where)}
            for entry in entries if entry.get("operation_id") == op and differences(entry, where)]
    return JSONResponse({"ok": message is None, "message": message, "matched": [entry["seq"] for entry in matched],
                         "near_misses": near})
