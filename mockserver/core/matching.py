"""Matching journal entries against expectations, with near-misses in the failure message.

Shared by the test kit's `assert_called` and the control plane's `POST /_emulator/journal/verify`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

Entry = dict[str, Any]
Where = Mapping[str, Any] | Callable[[Entry], bool] | None
MISSING = object()


def lookup(entry: Mapping[str, Any], dotted: str) -> Any:
    """`request_json.input_tts.voice` -> entry["request_json"]["input_tts"]["voice"] (MISSING if absent)."""
    value: Any = entry
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def differences(entry: Entry, where: Where) -> list[str]:
    """Why `entry` does not satisfy `where` (empty when it does)."""
    if where is None:
        return []
    if callable(where):
        return [] if where(entry) else ["the where= predicate returned False"]
    diffs = []
    for key, wanted in where.items():
        got = lookup(entry, key)
        if got is MISSING:
            diffs.append(f"{key} is absent (wanted {wanted!r})")
        elif got != wanted:
            diffs.append(f"{key}={got!r} (wanted {wanted!r})")
    return diffs


def summary(entry: Entry) -> str:
    fault = f" fault={entry['fault']}" if entry.get("fault") else ""
    return f"#{entry['seq']} {entry['method']} {entry['path']} -> {entry['status']} {entry['outcome']}{fault}"


def check_called(
    entries: list[Entry], operation_id: str, *, times: int | None, where: Where, tenant: str
) -> list[Entry]:
    """The entries that match; raise AssertionError (listing near-misses) when the count is wrong."""
    same_op = [entry for entry in entries if entry.get("operation_id") == operation_id]
    matched = [entry for entry in same_op if not differences(entry, where)]
    if (times is None and matched) or (times is not None and len(matched) == times):
        return matched
    where_text = "" if where is None else f" where {where!r}" if not callable(where) else " where <predicate>"
    wanted = "at least once" if times is None else f"{times} time(s)"
    lines = [f"{operation_id} expected {wanted}{where_text}, matched {len(matched)} time(s) in tenant {tenant!r}."]
    misses = [entry for entry in same_op if entry not in matched]
    if misses:
        lines.append("Near misses (same operation):")
        lines += [f"  {summary(entry)}: {'; '.join(differences(entry, where))}" for entry in misses[-10:]]
    if times is not None and len(matched) > times:
        lines.append("Matching calls:")
        lines += [f"  {summary(entry)}" for entry in matched[-10:]]
    others = Counter(str(entry.get("operation_id") or f"{entry['method']} {entry['path']}")
                     for entry in entries if entry.get("operation_id") != operation_id)
    if others:
        lines.append("Other calls in this tenant: " + ", ".join(f"{name} x{n}" for name, n in others.most_common()))
    elif not same_op:
        lines.append("The journal of this tenant is empty: did the client send X-Emulator-Tenant?")
    first = min((int(entry["seq"]) for entry in entries if "seq" in entry), default=1)
    if first > 1:
        lines.append(f"Entries #1-#{first - 1} are no longer in the journal (cleared, or dropped: it keeps each "
                     "tenant's newest entries only, Settings.journal_size); the call may be among them.")
    raise AssertionError("\n".join(lines))
