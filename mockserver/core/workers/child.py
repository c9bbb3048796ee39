"""The child side of a worker process: run tasks sent over a pipe, report events and the outcome.

A worker runs one task at a time, at a lower CPU priority than the server, under an address-space
limit and a per-task CPU-time limit. Whatever a task does (a decoder that segfaults, a bomb that
eats memory), only this process dies: the pool in the server replaces it.
"""

from __future__ import annotations

import importlib
import os
import resource
import signal
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any


@dataclass(frozen=True)
class WorkerLimits:
    """What one worker process may use."""

    memory_bytes: int | None = 2 * 1024**3
    """Address space the worker may add beyond what it has at start (RLIMIT_AS); None: no limit."""
    cpu_seconds: float | None = 300.0
    """CPU time one task may use (RLIMIT_CPU, reset per task); None: no limit."""
    nice: int = 14
    """Added to the worker's niceness, so the server's requests never queue behind frames (renders
    take whatever CPU the server and the probes leave). Not 19: a pipelined render's drawing thread
    lowers its priority 5 below its x264 thread's (`reference_engine.video.HELPER_NICENESS`), which
    no thread can do from the lowest."""


@dataclass(frozen=True)
class CrashPlan:
    """Kill the worker deterministically (SIGKILL) the `count`-th time its task reaches `point`."""

    point: str
    count: int = 1


class TaskRefused(Exception):
    """Raised by a task for input it cannot use; `details` (JSON-able) reach the server unchanged."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class CancelFlag(threading.Event):
    """A flag in memory shared with the server, which raises it to stop the task. It is a
    threading.Event for the engine's `cancel=` parameters (which only call `is_set()`)."""

    def __init__(self, value: Synchronized[int]) -> None:
        super().__init__()
        self._value = value

    def is_set(self) -> bool:
        return bool(self._value.value)

    def set(self) -> None:
        self._value.value = 1
        super().set()


class TaskContext:
    """What a task may do while it runs: report progress and events, notice cancellation."""

    def __init__(self, conn: Connection, task_id: int, cancel: CancelFlag, crash: CrashPlan | None) -> None:
        self._conn = conn
        self._task_id = task_id
        self.cancel = cancel
        self._crash = crash
        self._reached: dict[str, int] = {}
        self._progress = -1.0

    def emit(self, **event: Any) -> None:
        """Send an event (a small dict) to the server, in order with the others."""
        self._conn.send(("event", self._task_id, event))

    def progress(self, fraction: float) -> None:
        """Report progress in 0..1 (at most once per percent)."""
        if fraction >= 1.0 or fraction - self._progress >= 0.01:
            self._progress = fraction
            self.emit(progress=min(max(fraction, 0.0), 1.0))

    def reached(self, point: str) -> None:
        """Mark a point of the task (e.g. "probe", "fragment"): where a CrashPlan may strike."""
        self._reached[point] = count = self._reached.get(point, 0) + 1
        if self._crash is not None and self._crash.point == point and self._crash.count == count:
            os.kill(os.getpid(), signal.SIGKILL)


def _apply_limits(limits: WorkerLimits) -> None:
    if limits.nice:
        os.nice(limits.nice)
    if limits.memory_bytes is not None:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = current + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _set_cpu_budget(seconds: float | None) -> None:
    """Let the coming task use `seconds` more CPU time; past it the kernel sends SIGXCPU."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if seconds is None:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


Task = tuple[int, Callable[..., Any], tuple[Any, ...], dict[str, Any], CrashPlan | None]


def worker_main(conn: Connection, cancel_value: Synchronized[int], limits: WorkerLimits,
                preload: Sequence[str] = ()) -> None:  # fmt: skip
    """The worker's loop: receive a task, run it, send ("done", id, result) or ("failed", id, kind, ...).

    `preload` modules are imported before the memory limit applies. The fork server has them already
    when it started with them; one that an earlier pool started without them (its preload is fixed
    once it runs) would otherwise leave each task to map av's and OpenCV's libraries under the
    limit, which fails with a few hundred MB.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    for module in preload:
        importlib.import_module(module)
    _apply_limits(limits)
    cancel = CancelFlag(cancel_value)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, fn, args, kwargs, crash = message
        _set_cpu_budget(limits.cpu_seconds)
        ctx = TaskContext(conn, task_id, cancel, crash)
        try:
            result = fn(ctx, *args, **kwargs)
        except TaskRefused as refused:
            reply: tuple[Any, ...] = ("failed", task_id, "refused", refused.message, refused.details)
        except MemoryError:
            reply = ("failed", task_id, "memory", "the task ran out of memory (the worker's limit)", {})
        except Exception as exc:
            reply = ("failed", task_id, "error", f"{type(exc).__name__}: {exc}", {"traceback": traceback.format_exc()})
        else:
            reply = ("done", task_id, result)
        finally:
            _set_cpu_budget(None)
        conn.send(reply)
