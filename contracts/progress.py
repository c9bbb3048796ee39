"""The run's progress, clause by clause: a live status line and coloured verdicts on a terminal, plain lines in CI.

On a terminal (TTY) the line under the verdicts says which test runs and how many clauses are judged so far; it
is rewritten in place. Anywhere else (CI logs, pipes) every verdict is one plain line with no control codes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol


class Writable(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


COLOURS = {"PASS": "32", "FAIL": "31;1", "WARN": "33", "NA": "36", "XFAIL": "35"}


class Progress:
    """Writes to `out`; `tty` picks the live display, `total` is the number of tests the run will execute."""

    def __init__(self, out: Writable, *, tty: bool, total: int, clauses: int) -> None:
        self.out = out
        self.tty = tty
        self.total = total
        self.clauses = clauses
        self.done = 0
        self.judged: set[str] = set()
        self.started = time.monotonic()
        self._status = ""

    def test_started(self, nodeid: str) -> None:
        if not self.tty:
            return
        name = nodeid.rsplit("::", 1)[-1]
        self._status = (
            f"[{self.done + 1}/{self.total}] {name} ... "
            f"{len(self.judged)}/{self.clauses} clauses judged, {time.monotonic() - self.started:.0f} s"
        )
        self._write(f"\r\x1b[K\x1b[2m{self._status}\x1b[0m")

    def test_finished(self, nodeid: str, verdicts: Mapping[str, tuple[str, str]]) -> None:
        """Show each clause this test judged with its verdict (and the reason, unless it passed)."""
        self.done += 1
        name = nodeid.rsplit("::", 1)[-1]
        lines = []
        for clause, (verdict, reason) in verdicts.items():
            self.judged.add(clause)
            why = "" if verdict == "PASS" else f"  {_one_line(reason)}"
            if self.tty:
                lines.append(f"\x1b[{COLOURS.get(verdict, '0')}m{verdict:5}\x1b[0m {clause}{why} \x1b[2m{name}\x1b[0m")
            else:
                lines.append(f"{verdict:5} {clause} [{name}]{why}")
        if self.tty:
            self._write("\r\x1b[K" + "".join(line + "\n" for line in lines))
        else:
            self._write("".join(line + "\n" for line in lines))

    def close(self) -> None:
        if self.tty:
            self._write("\r\x1b[K")
        elapsed = time.monotonic() - self.started
        self._write(f"{self.done} tests, {len(self.judged)}/{self.clauses} clauses judged in {elapsed:.1f} s\n")

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def _one_line(text: Any, limit: int = 160) -> str:
    line = str(text).splitlines()[0] if str(text) else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
