"""POST /_emulator/journal/verify: `assert_called` as a control route, near-misses included."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..core.matching import check_called, differences, summary
from ..http.responses import JSONResponse
from .bodies import RuleError, read_json
from .journal import journal_of, select
from .routes import ControlRoutes


async def verify(routes: ControlRoutes, request: Request) -> Response:
    """Check the tenant's journal like `EmulatorControl.journal.assert_called` and explain a mismatch."""
    body = await read_json(request, "verifyJournal")
    op, times, where = body["operation_id"], body.get("times"), body.get("where") or None
    if op not in routes.router.operations():
        raise RuleError(f"unknown operation_id {op!r}; GET /_emulator/routes lists them.")
    name = routes.tenant_name(request)
    entries = await select(journal_of(routes.emulator, name))
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
