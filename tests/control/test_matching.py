"""assert_called's failure message, from journal entries alone."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.matching import check_called


def entry(seq: int, operation_id: str, status: int = 200) -> dict[str, Any]:
    return {"seq": seq, "operation_id": operation_id, "method": "GET", "path": "/v1/videos/x", "status": status,
            "outcome": "ok", "fault": None}


def test_a_journal_that_lost_its_oldest_entries_says_so() -> None:
    entries = [entry(seq, "getVideo") for seq in range(42, 1042)]
    with pytest.raises(AssertionError) as failure:
        check_called(entries, "streamVideo", times=1, where={"outcome": "cut"}, tenant="t")
    message = str(failure.value)
    assert "Other calls in this tenant: getVideo x1000" in message
    assert "Entries #1-#41 are no longer in the journal" in message


def test_a_whole_journal_says_nothing_about_lost_entries() -> None:
    with pytest.raises(AssertionError) as failure:
        check_called([entry(1, "getVideo"), entry(2, "getVideo")], "streamVideo", times=1, where=None, tenant="t")
    assert "no longer in the journal" not in str(failure.value)
