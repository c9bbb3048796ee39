"""The server side of worker processes: a bounded pool that runs tasks in children and survives them.

`await pool.run(fn, *args, on_event=...)` sends `fn` (a module-level function, called in the child
as `fn(ctx, *args)`) to an idle worker and returns its result. Large media cross by file: tasks take
and return paths, never arrays. When a worker dies (a signal, the OOM killer, `os._exit`), only its
task fails, with `WorkerDied`; the next task gets a fresh worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any, TypeVar, cast

from .child import CrashPlan, WorkerLimits, worker_main

log = logging.getLogger("avatar_emulator")

R = TypeVar("R")
EventHandler = Callable[[dict[str, Any]], None]

_CONTEXT_LOCK = threading.Lock()
_PRELOADED: set[str] = set()


class WorkerDied(Exception):
    """The worker process running a task ended before the task did."""

    def __init__(self, pool: str, exitcode: int | None, *, cpu_limit: float | None = None) -> None:
        self.exitcode = exitcode
        if exitcode is not None and exitcode < 0:
            number = -exitcode
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            if number == signal.SIGXCPU and cpu_limit is not None:
                why = f"it used more than its {cpu_limit:g} s of CPU time (SIGXCPU)"
            else:
                why = f"it was killed by {name}"
        else:
            why = f"it exited with code {exitcode}"
        super().__init__(f"the {pool} worker process died: {why}")


class TaskFailed(Exception):
    """The task raised in its worker. `kind` is "refused" (bad input, `details` from the task),
    "memory" (the worker's memory limit) or "error" (a bug: `details["traceback"]`)."""

    def __init__(self, kind: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details


def worker_context(preload: Sequence[str] = ()) -> ForkServerContext:
    """The forkserver context; `preload` modules are imported once in the fork server, so each new
    worker starts in milliseconds and shares their pages."""
    context = multiprocessing.get_context("forkserver")
    with _CONTEXT_LOCK:
        wanted = sorted(_PRELOADED | set(preload))
        if set(wanted) != _PRELOADED:
            _PRELOADED.update(wanted)
            context.set_forkserver_preload(wanted)
    return context


class _Worker:
    """One child process, its pipe and its cancel flag. Its messages are read on the server's event
    loop (`loop.add_reader`): no thread per worker, so no GIL hand-offs between them and the requests."""

    def __init__(self, pool: WorkerPool, context: ForkServerContext, limits: WorkerLimits) -> None:
        self.pool = pool
        self.conn, child_conn = context.Pipe(duplex=True)
        self.cancel: Synchronized[int] = context.Value("b", 0, lock=False)
        self.process: BaseProcess = context.Process(
            target=worker_main, args=(child_conn, self.cancel, limits, pool.preload),
            name=f"avatar-emulator {pool.name} worker",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        self.task: _Running | None = None
        self.alive = True
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read this worker's messages on `loop` from now on (call it on that loop)."""
        if self._loop is None:
            self._loop = loop
            loop.add_reader(self.conn.fileno(), self._readable)
            # uvloop (libuv's uv_poll_init) makes a polled fd non-blocking; `Connection.recv` needs
            # it blocking, or a message larger than what has arrived so far fails with EAGAIN.
            os.set_blocking(self.conn.fileno(), True)

    def detach(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(ValueError, RuntimeError):  # the loop is closed already
                self._loop.remove_reader(self.conn.fileno())
            self._loop = None

    def _readable(self) -> None:
        """The pipe has data: take one message. The loop calls again at once while more wait (its
        readers are level-triggered); `Connection.poll()` before each message built and closed a
        selector every time, about 10 ms of the server's CPU per 10 s render's ~150 events."""
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            self._ended()
            return
        if self.task is not None:
            self.task.deliver(message)

    def _ended(self) -> None:
        """The process is gone: fail its task, forget it."""
        self.detach()
        self.process.join(timeout=1)  # its pipe closed: it has exited, or is about to
        self.alive = False
        running, self.task = self.task, None
        self.pool._forget(self, busy=running is not None)
        if running is not None:
            running.died(WorkerDied(self.pool.name, self.process.exitcode, cpu_limit=self.pool.limits.cpu_seconds))
        self.conn.close()

    def send(self, running: _Running) -> None:
        self.task = running
        self.cancel.value = 0
        self.conn.send((running.task_id, running.fn, running.args, running.kwargs, running.crash))

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            with contextlib.suppress(ProcessLookupError, AttributeError):
                self.process.kill()
            return
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)


class _Running:
    """A task in flight: its future and its event handler, both used on the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task_id: int, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], crash: CrashPlan | None, on_event: EventHandler | None) -> None:
        self.task_id = task_id
        self.fn, self.args, self.kwargs, self.crash = fn, args, kwargs, crash
        self.on_event = on_event
        self.future: asyncio.Future[Any] = loop.create_future()

    def deliver(self, message: tuple[Any, ...]) -> None:
        kind, task_id = message[0], message[1]
        if task_id != self.task_id or self.future.done():
            return
        if kind == "event":
            if self.on_event is not None:
                self.on_event(message[2])
        elif kind == "done":
            self.future.set_result(message[2])
        else:
            self.future.set_exception(TaskFailed(message[2], message[3], message[4]))

    def died(self, error: WorkerDied) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class WorkerPool:
    """At most `size` worker processes, started on demand and kept; tasks beyond that wait their turn."""

    def __init__(
        self, name: str, size: int, *, limits: WorkerLimits | None = None, preload: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.size = max(1, size)
        self.limits = limits or WorkerLimits()
        self.preload = tuple(preload)
        self.replaced = 0
        """Workers that died and were replaced."""
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None
        self._ids = 0
        self._closed = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        """Notified when a worker becomes idle or leaves: a `_take` waiting for one looks again."""
        self._starting = 0
        """Workers being started (`_all` has them once they run): they count against `size`."""

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        return self._slots

    def _forget(self, worker: _Worker, *, busy: bool) -> None:
        """A worker's process ended; one that died with a task counts as replaced."""
        with self._changed:
            if worker in self._all:
                self._all.discard(worker)
                if worker in self._idle:
                    self._idle.remove(worker)
                if busy and not self._closed:
                    self.replaced += 1
            self._changed.notify()

    def _start_worker(self) -> _Worker:
        """Start a worker whose place the caller reserved (`_starting`); it joins `_all`."""
        worker: _Worker | None = None
        try:
            worker = _Worker(self, worker_context(self.preload), self.limits)
            return worker
        finally:
            with self._changed:
                self._starting -= 1
                if worker is not None:
                    self._all.add(worker)
                self._changed.notify()  # a place is free again if the start failed

    def _pop_idle(self) -> _Worker | None:
        """An idle worker, if there is one (call it with the lock held)."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
        return None

    def _take_idle(self) -> _Worker | None:
        """An idle worker now, if there is one (it never waits: the server's loop calls it)."""
        with self._changed:
            return self._pop_idle()

    def _take(self) -> _Worker:
        """An idle worker, or a new one while the pool has room; otherwise wait (blocking: call it
        from a thread) for one that prewarm is starting, or that ends, to come back or leave room."""
        with self._changed:
            while True:
                worker = self._pop_idle()
                if worker is not None:
                    return worker
                if self._closed:
                    raise RuntimeError(f"the {self.name} worker pool is closed")
                if len(self._all) + self._starting < self.size:
                    self._starting += 1
                    break
                self._changed.wait(timeout=1.0)
        return self._start_worker()

    def _give_back(self, worker: _Worker, *, healthy: bool) -> None:
        worker.task = None
        with self._changed:
            if healthy and worker.alive and not self._closed:
                self._idle.append(worker)
                self._changed.notify()
                return
        worker.stop(kill=True)

    def prewarm(self, count: int = 1) -> None:
        """Start idle workers until `count` are idle (blocking: it waits for the processes to start)."""
        while True:
            with self._changed:
                room = len(self._all) + self._starting < self.size
                if len(self._idle) >= min(count, self.size) or not room or self._closed:
                    return
                self._starting += 1
            self._give_back(self._start_worker(), healthy=True)

    async def run(
        self,
        fn: Callable[..., R],
        *args: Any,
        on_event: EventHandler | None = None,
        cancel: asyncio.Event | None = None,
        crash: CrashPlan | None = None,
        **kwargs: Any,
    ) -> R:
        """Run `fn(ctx, *args, **kwargs)` in a worker; its events go to `on_event` (on this loop).

        Raises WorkerDied, TaskFailed, or asyncio.CancelledError (the worker is then killed).
        """
        if self._closed:
            raise RuntimeError(f"the {self.name} worker pool is closed")
        async with self._semaphore():
            loop = asyncio.get_running_loop()
            self._ids += 1
            running = _Running(loop, self._ids, fn, args, kwargs, crash, on_event)
            worker = await self._dispatch(loop, running)
            healthy = False
            watcher = asyncio.ensure_future(self._watch_cancel(worker, cancel)) if cancel is not None else None
            try:
                result = await running.future
                healthy = True
                return cast(R, result)
            except TaskFailed as failed:
                healthy = failed.kind != "memory"  # a worker that hit its memory limit may be in a bad state
                raise
            finally:
                if watcher is not None:
                    watcher.cancel()
                self._give_back(worker, healthy=healthy and not (cancel is not None and cancel.is_set()))

    async def _dispatch(self, loop: asyncio.AbstractEventLoop, running: _Running) -> _Worker:
        """Send the task to an idle worker (a new one if needed); one that died while idle is replaced."""
        while True:
            worker = self._take_idle()
            if worker is None:
                taking = asyncio.ensure_future(asyncio.to_thread(self._take))
                try:
                    worker = await asyncio.shield(taking)
                except asyncio.CancelledError:  # the worker it still gets is idle, not lost to the pool
                    taking.add_done_callback(self._give_back_taken)
                    raise
            worker.attach(loop)
            try:
                worker.send(running)
                return worker
            except OSError:  # it died while idle: its pipe is closed
                worker.task = None
                worker._ended()

    def _give_back_taken(self, taking: asyncio.Future[_Worker]) -> None:
        if not taking.cancelled() and taking.exception() is None:
            self._give_back(taking.result(), healthy=True)

    @staticmethod
    async def _watch_cancel(worker: _Worker, cancel: asyncio.Event) -> None:
        await cancel.wait()
        worker.cancel.value = 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            workers = list(self._all)
        return {"name": self.name, "size": self.size, "workers": len(workers),
                "busy": sum(1 for w in workers if w.task is not None), "replaced": self.replaced,
                "pids": [w.process.pid for w in workers]}

    def close(self) -> None:
        """Stop every worker (busy ones are killed). Call it on the loop that ran the tasks."""
        with self._changed:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._changed.notify_all()
        for worker in workers:
            worker.detach()
            worker.stop(kill=worker.task is not None)
        for worker in workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.stop(kill=True)
